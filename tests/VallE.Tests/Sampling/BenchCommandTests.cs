using System.Text.Json;
using VallE.Benchmarking;
using VallE.Tests.Support;

namespace VallE.Tests.Sampling;

/// <summary>`valle bench` contract: options validated as usage errors, and a run on a small checkpoint.</summary>
[TestFixture]
public class BenchCommandTests
{
    [TestCase("--preset", "huge")]
    [TestCase("--frames", "1")]
    [TestCase("--threads", "0")]
    [TestCase("--weights-dtype", "f8")]
    [TestCase("--torch", "maybe")]
    [TestCase("--bandwidth", "-3")]
    [TestCase("--mode", "ar")]
    public void BadOptionsAreUsageErrors(string option, string value)
    {
        var r = CliRunner.Run("bench", option, value, "--torch", value == "maybe" ? "maybe" : "none");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain(option));
    }

    [Test]
    public void EngineOnlyRunOnTheFixtureCheckpointPrintsJson()
    {
        string checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        var r = CliRunner.Run("bench", "--checkpoint", checkpoint, "--torch", "none", "--frames", "6", "--text-len", "8",
            "--prompt-frames", "10", "--threads", "1", "--bandwidth", "10", "--json");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        JsonElement json = JsonDocument.Parse(r.Out).RootElement;
        Assert.That(json.GetProperty("frames").GetInt32(), Is.EqualTo(6));
        JsonElement engine = json.GetProperty("engine");
        Assert.That(engine.GetProperty("total_ms").GetDouble(), Is.GreaterThan(0));
        Assert.That(engine.GetProperty("rtf").GetDouble(), Is.GreaterThan(0));
        Assert.That(engine.GetProperty("decode_ms_median").GetDouble(), Is.GreaterThan(0));
        Assert.That(json.GetProperty("references").GetArrayLength(), Is.Zero);
        Assert.That(json.GetProperty("torch_skipped").GetString(), Is.EqualTo("--torch none"));
        // d=64, 2 layers: 2 * (12 d^2 + 13 d + 4 * 4d... ) f32 bytes + the 1025 x 64 prediction layer.
        Assert.That(json.GetProperty("floor").GetProperty("weight_bytes_per_step").GetInt64(),
            Is.EqualTo(2L * ((3 * 64 * 64 + 3 * 64) + (64 * 64 + 64) + (256 * 64 + 256) + (64 * 256 + 64) + 4 * 64) * 4 + 1025L * 64 * 4));
    }

    [Test]
    public void StepTimesSplitThePrefillFromTheMeanAndMedianStep()
    {
        var steps = new StepTimes(capacity: 3, start: System.Diagnostics.Stopwatch.GetTimestamp());
        Assert.Multiple(() =>
        {
            Assert.That(steps.FirstStepMs, Is.Zero);
            Assert.That(steps.DecodeMsPerStep, Is.Zero);
            Assert.That(steps.DecodeMsMedian, Is.Zero);
        });
        for (int i = 0; i < 5; i++) steps.Stamp();   // stamps past the capacity are dropped, not a crash
        Assert.That(steps.FirstStepMs, Is.GreaterThanOrEqualTo(0));
        Assert.That(steps.DecodeMsMedian, Is.GreaterThanOrEqualTo(0).And.LessThanOrEqualTo(steps.DecodeMsPerStep * 2));
    }

    [Test]
    public void LibraryEntryRunsWithoutTheCli()
    {
        // BenchRun.Execute directly (bench/VallE.Benchmarking): its own checkpoint loader, plain table, log lines.
        string checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        var output = new StringWriter();
        var log = new RecordingLog();
        BenchRun.Execute(new BenchSettings
        {
            Checkpoint = checkpoint, Torch = TorchReferences.None, Frames = 4, TextTokens = 8, PromptFrames = 10,
            Threads = 1, BandwidthGBps = 10,
        }, output, log, CancellationToken.None);
        Assert.That(output.ToString(), Does.StartWith("checkpoint: d=64").And.Contain("VallE.NET (CPU)")
            .And.Contain("PyTorch references skipped: --torch none"));
        Assert.That(log.Lines, Does.Contain("info: engine: 4 frames"));
        Assert.That(() => BenchRun.Execute(new BenchSettings { Checkpoint = checkpoint, Frames = 1 }, output, log,
            CancellationToken.None), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void EckerSmallEngineOnlyRunPrintsJson()
    {
        // The ecker-small preset: ecker_reference.py makes the random 256/4/4 .sft (needs torch), then our EckerModel alone.
        TorchReference.RequireTorch();
        string cache = Path.Combine(Path.GetTempPath(), "valle-bench-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var r = CliRunner.Run("bench", "--preset", "ecker-small", "--torch", "none", "--frames", "4", "--text-len", "8",
                "--prompt-frames", "10", "--threads", "1", "--bandwidth", "10", "--cache-dir", cache, "--json");
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            JsonElement json = JsonDocument.Parse(r.Out).RootElement;
            Assert.That(json.GetProperty("preset").GetString(), Is.EqualTo("ecker-small"));
            Assert.That(json.GetProperty("model").GetProperty("family").GetString(), Is.EqualTo("Ecker"));
            Assert.That(json.GetProperty("model").GetProperty("d_model").GetInt32(), Is.EqualTo(256));
            JsonElement engine = json.GetProperty("engine");
            Assert.That(engine.GetProperty("frames").GetInt32(), Is.EqualTo(4), "the stop row never wins: every frame is generated");
            Assert.That(engine.GetProperty("nar_ms").GetDouble(), Is.GreaterThan(0));
            // 4 blocks of (3d² + d² + 2·4d·d + 4d·d) f32 + 2 norms each, the final norm, the 1025-row AR head with bias.
            const long d = 256;
            Assert.That(json.GetProperty("floor").GetProperty("weight_bytes_per_step").GetInt64(),
                Is.EqualTo(4 * (16 * d * d * 4 + 2 * d * 4) + d * 4 + 1025 * (d + 1) * 4));
        }
        finally
        {
            try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    public void EckerSmallNarLenRunPrintsJson()
    {
        // --mode nar-len: ecker_reference.py make --narlen (needs torch), then the len task, 25 demasking steps and
        // the NAR levels of our EckerModel, then the PyTorch reference's run --mode nar-len.
        TorchReference.RequireTorch();
        string cache = Path.Combine(Path.GetTempPath(), "valle-bench-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var r = CliRunner.Run("bench", "--preset", "ecker-small", "--mode", "nar-len", "--frames", "4", "--text-len", "8",
                "--prompt-frames", "10", "--threads", "1", "--cache-dir", cache, "--json");
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            JsonElement json = JsonDocument.Parse(r.Out).RootElement;
            Assert.That(json.GetProperty("mode").GetString(), Is.EqualTo("nar-len"));
            Assert.That(json.GetProperty("len_digits").GetInt32(), Is.EqualTo(10), "the len head's stop digit never wins");
            Assert.That(json.GetProperty("demask_steps").GetInt32(), Is.EqualTo(25));
            Assert.That(json.GetProperty("demask_ms").GetDouble(), Is.GreaterThan(0));
            Assert.That(File.Exists(Path.Combine(cache, "bench-ecker-small-narlen.sft")));
            // Our PyTorch reference of upstream's NAR-len (full passes, separate null pass) on the same inputs.
            Assert.That(json.GetProperty("codes_equal_torch").GetBoolean(), Is.True);
        }
        finally
        {
            try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
        }
    }

    private sealed class RecordingLog : IBenchLog
    {
        public List<string> Lines { get; } = [];
        public void Info(string message) => Lines.Add("info: " + message);
        public void Warn(string message) => Lines.Add("warn: " + message);
    }

    [Test]
    public void TableRunAgainstTheTorchReferencesMatchesTheirCodes()
    {
        string checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        TorchReference.RequireTorch();
        var r = CliRunner.Run("bench", "--checkpoint", checkpoint, "--frames", "5", "--text-len", "8",
            "--prompt-frames", "10", "--threads", "1", "--bandwidth", "10");
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Contain("VallE.NET (CPU)").And.Contain("PyTorch cached").And.Contain("PyTorch upstream"));
        Assert.That(r.Out, Does.Contain("codes vs PyTorch cached: identical"), r.Out);
        Assert.That(r.Out, Does.Contain("x the floor"));
    }
}
