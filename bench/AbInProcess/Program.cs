using System.Globalization;
using VallE.AbInProcess;

// dotnet run -c Release --project bench/AbInProcess -- CHECKPOINT BEFORE_FOLDER AFTER_FOLDER [ROUNDS] [FRAMES] [WARMUPS]
// Both builds load the same checkpoint into one process; each round runs the same greedy request once on each, the
// order flipped every round, and prints the ratios after/before. Passing one folder twice is the A/A control.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: AbInProcess CHECKPOINT BEFORE_FOLDER AFTER_FOLDER [ROUNDS=16] [FRAMES=50] [WARMUPS=2]");
    return 2;
}
int? Arg(int i, int fallback, int min) =>
    args.Length <= i ? fallback
    : int.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min ? v : null;
if (Arg(3, 16, 1) is not int rounds || Arg(4, 50, 2) is not int frames || Arg(5, 2, 0) is not int warmups)
{
    Console.Error.WriteLine("ROUNDS must be >= 1, FRAMES >= 2 and WARMUPS >= 0 (whole numbers)");
    return 2;
}
if (!File.Exists(args[0])) { Console.Error.WriteLine($"no checkpoint {args[0]}"); return 2; }

BuildUnderTest before, after;
try
{
    before = new BuildUnderTest("before", args[1], args[0], threads: 2, textTokens: 60, promptFrames: 225);
    after = new BuildUnderTest("after", args[2], args[0], threads: 2, textTokens: 60, promptFrames: 225);
}
catch (Exception e) when (e is IOException or TypeLoadException or MissingMemberException or System.Reflection.TargetInvocationException)
{
    Console.Error.WriteLine($"cannot load a build: {(e as System.Reflection.TargetInvocationException)?.InnerException?.Message ?? e.Message}");
    return 1;
}
// Warm-ups: the JIT tiers a method up only after ~30 calls (twice with PGO); per-step methods run once per step.
for (int i = 0; i < warmups; i++) { before.Run(frames); after.Run(frames); }

var step = new List<double>(); var ar = new List<double>(); var nar = new List<double>();
for (int r = 1; r <= rounds; r++)
{
    RunTiming b, a;
    if (r % 2 == 1) { b = before.Run(frames); a = after.Run(frames); }
    else { a = after.Run(frames); b = before.Run(frames); }
    step.Add(a.DecodeMsMedian / b.DecodeMsMedian); ar.Add(a.ArMs / b.ArMs); nar.Add(a.NarMs / b.NarMs);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {r,2}: decode step (median) {b.DecodeMsMedian,6:F2} -> {a.DecodeMsMedian,6:F2} ms ({step[^1]:F3})  " +
        $"AR {b.ArMs,6:F0} -> {a.ArMs,6:F0} ms ({ar[^1]:F3})  NAR {b.NarMs,6:F0} -> {a.NarMs,6:F0} ms ({nar[^1]:F3})"));
}
foreach (var (label, ratios) in new[] { ("decode step", step), ("AR", ar), ("NAR", nar) })
{
    var sorted = ratios.Order().ToArray();
    double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    double geomean = Math.Exp(ratios.Average(Math.Log));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label,-12} after/before: median {median:F3}, geomean {geomean:F3}, range {sorted[0]:F3}..{sorted[^1]:F3}, after slower in {ratios.Count(x => x > 1)}/{ratios.Count}"));
}
return 0;
