using System.Diagnostics;
using VallE.Tests.Support;

namespace VallE.Tests.Weights;

/// <summary>
/// Writes real PyTorch checkpoints of every layout once per test run with tools/make_checkpoint.py under the
/// Debian torch (/usr/bin/python3), plus a few foreign/odd .pt files. Tests using it are skipped when that
/// Python has no torch.
/// </summary>
internal static class GeneratedCheckpoints
{
    /// <summary>File name -> make_checkpoint.py arguments (tiny preset: 64 wide, 4 heads, 2 layers).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Layouts = new Dictionary<string, string[]>
    {
        ["valle.pt"] = [],
        ["vallf.pt"] = ["--family", "vallf"],
        ["prenet.pt"] = ["--add-prenet", "1"],
        ["postnorm.pt"] = ["--norm-first", "0"],
        ["scale.pt"] = ["--scale-factor", "0.5"],
        ["bos.pt"] = ["--prepend-bos", "1"],
        ["noshare.pt"] = ["--share-embedding", "0"],
        ["vallex.pt"] = ["--family", "vallex"],
        ["vallex_postnorm.pt"] = ["--family", "vallex", "--norm-first", "0", "--d-model", "128"],
        ["vallf_prenet_f16.pt"] = ["--family", "vallf", "--add-prenet", "1", "--dtype", "f16", "--prefix-mode", "2"],
        ["onequantizer.pt"] = ["--num-quantizers", "1"],
    };

    private static readonly Lazy<string?> Folder = new(Generate);
    private static string? _skipReason;

    /// <summary>Path of a generated file; skips the test when torch is unavailable.</summary>
    public static string Path(string name)
    {
        string? dir = Folder.Value;
        if (dir is null) Assert.Ignore(_skipReason ?? "generated checkpoints unavailable");
        return System.IO.Path.Combine(dir!, name);
    }

    private const string Extras = """
import sys, torch
out = sys.argv[1]
sd = torch.load(out + '/valle.pt')['model']
torch.save({'module.' + k: v for k, v in sd.items()}, out + '/bare_module.pt')
torch.save({'encoder.conv.weight': torch.zeros(3, 3), 'decoder.fc.bias': torch.zeros(3)}, out + '/foreign.pt')
torch.save([torch.zeros(1)], out + '/list.pt')
torch.save({'model': sd, 'model_name': 'Transformer'}, out + '/transformer.pt')
bad = dict(sd); bad['ar_decoder.layers.1.linear1.weight'] = torch.zeros(7, 64); del bad['ar_predict_layer.weight']
torch.save({'model': bad}, out + '/damaged.pt')
torch.save({'model': sd, 'nhead': 'four'}, out + '/badkey.pt')
""";

    private static string? Generate()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) { _skipReason = $"{python} not found"; return null; }
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "valle-generated-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        // One interpreter for all layouts: importing torch dominates the cost.
        var script = new System.Text.StringBuilder();
        script.AppendLine("import sys; sys.path.insert(0, sys.argv[2])");
        script.AppendLine("try:\n    import torch\nexcept ImportError:\n    sys.exit(42)");
        script.AppendLine("import make_checkpoint as m");
        foreach (var (file, args) in Layouts)
            script.AppendLine($"m.main([{string.Join(", ", args.Concat(["--out", $"{{0}}/{file}"]).Select(a => $"'{a}'.format(sys.argv[1])"))}])");
        script.AppendLine(Extras);
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script.ToString());
        start.ArgumentList.Add(dir);
        start.ArgumentList.Add(System.IO.Path.Combine(TestPaths.RepoRoot, "tools"));
        start.Environment["OMP_NUM_THREADS"] = "2";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode == 42) { _skipReason = $"{python} has no torch"; return null; }
        if (process.ExitCode != 0) throw new InvalidOperationException($"make_checkpoint.py failed ({process.ExitCode}): {stderr.Result}");
        return dir;
    }
}
