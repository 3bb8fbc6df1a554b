using System.Reflection;
using System.Runtime.Loader;

namespace VallE.AbInProcess;

/// <summary>One engine's timings of one request: steady decode step (median), AR and NAR wall time.</summary>
internal readonly record struct RunTiming(double DecodeMsMedian, double ArMs, double NarMs);

/// <summary>
/// One build of the engine, loaded from its output folder (<c>src/VallE.Cli/bin/Release/net10.0</c>) into its own
/// <see cref="AssemblyLoadContext"/>, so that two builds of the same assemblies live side by side in one process.
/// It is driven through its bench library's own entry points (<c>BenchRun.LoadModel</c>, <c>BenchSetup.RandomInputs</c>,
/// <c>EngineRunner.Run</c>) by reflection: the same request and the same per-step clock as <c>valle bench</c>.
/// </summary>
internal sealed class BuildUnderTest
{
    private const BindingFlags AnyStatic = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static;
    private readonly object _runner, _text, _prompt;
    private readonly MethodInfo _run;
    private readonly int _enroll;

    public BuildUnderTest(string name, string folder, string checkpoint, int threads, int textTokens, int promptFrames)
    {
        Name = name;
        string Need(string file) => File.Exists(Path.Combine(folder, file))
            ? Path.Combine(folder, file)
            : throw new FileNotFoundException($"{name}: {file} is not in {folder} (pass a built valle output folder)");
        var context = new BuildContext(folder);
        var bench = context.LoadFromAssemblyPath(Need("VallE.Benchmarking.dll"));
        var runtime = context.LoadFromAssemblyPath(Need("VallE.Runtime.dll"));

        var optionsType = runtime.GetTypes().Single(t => t.Name == "EngineOptions");
        object options = Activator.CreateInstance(optionsType)!;
        optionsType.GetProperty("Threads")!.SetValue(options, threads);
        var load = Type(bench, "VallE.Benchmarking.BenchRun").GetMethod("LoadModel", AnyStatic)
            ?? throw new MissingMethodException($"{name}: BenchRun.LoadModel not found (a build too old or too new for this tool)");
        object model = load.Invoke(null, [checkpoint, options])!;
        object config = model.GetType().GetProperty("Config")!.GetValue(model)!;
        int Config(string property) => (int)config.GetType().GetProperty(property)!.GetValue(config)!;

        object inputs = Type(bench, "VallE.Benchmarking.BenchSetup").GetMethod("RandomInputs", AnyStatic)!
            .Invoke(null, [textTokens, promptFrames, Config("TextVocab"), Config("NumQuantizers"), Config("AudioVocab"), 0UL])!;
        _text = inputs.GetType().GetField("Item1")!.GetValue(inputs)!;
        _prompt = inputs.GetType().GetField("Item2")!.GetValue(inputs)!;
        _enroll = textTokens / 2;   // as valle bench
        var runnerType = Type(bench, "VallE.Benchmarking.EngineRunner");
        _runner = Activator.CreateInstance(runnerType, model)!;
        _run = runnerType.GetMethod("Run")!;
    }

    public string Name { get; }

    public RunTiming Run(int frames)
    {
        object result = _run.Invoke(_runner, [_text, _prompt, _enroll, frames])!;
        object timing = result.GetType().GetField("Item1")!.GetValue(result)!;
        double Get(string property) => Convert.ToDouble(timing.GetType().GetProperty(property)?.GetValue(timing)
            ?? throw new MissingMemberException($"{Name}: its bench reports no {property} (a build before the decode_ms_median field)"));
        return new RunTiming(Get("DecodeMsMedian"), Get("ArMs"), Get("NarMs"));
    }

    private static Type Type(Assembly assembly, string name) =>
        assembly.GetType(name) ?? throw new TypeLoadException($"{assembly.GetName().Name} has no {name}");

    /// <summary>Resolves every assembly the build's folder has from that folder; the framework from the default context.</summary>
    private sealed class BuildContext(string folder) : AssemblyLoadContext(name: Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)))
    {
        protected override Assembly? Load(AssemblyName name)
        {
            string path = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
