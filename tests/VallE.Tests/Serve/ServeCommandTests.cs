using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using VallE.Server;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using VallE.Tests.Text;

namespace VallE.Tests.Serve;

/// <summary>
/// The <c>valle serve</c> command: usage errors (exit 2) before anything loads, voice specs and --voices-dir, a model
/// that fails to load (exit 3, one line), and the real process serving then stopping on SIGTERM with exit 0.
/// </summary>
[NonParallelizable]
public partial class ServeCommandTests
{
    private static string[] Required(params string[] more) =>
        ["serve", "--checkpoint", "c.pt", "--symbols", "s.k2", "--codec-decoder", "d.onnx", .. more];

    [TestCase(new string[0], "no voices")]
    [TestCase(new[] { "--voice", "anna" }, "NAME=FILE:TRANSCRIPT")]
    [TestCase(new[] { "--voice", "a=x.npy:Hi.", "--port", "70000" }, "--port 70000")]
    [TestCase(new[] { "--voice", "a=x.npy:Hi.", "--max-concurrency", "0" }, "--max-concurrency 0")]
    [TestCase(new[] { "--voice", "a=x.npy:Hi.", "--host", "example.com" }, "--host")]
    [TestCase(new[] { "--voice", "a=x.npy:Hi.", "--request-timeout", "-1" }, "--request-timeout")]
    [TestCase(new[] { "--voice", "a=x.npy:Hi.", "--device", "tpu" }, "--device")]
    public void BadOptionsAreUsageErrors(string[] args, string message)
    {
        using var dir = TestPaths.CreateTempDir();
        string npy = dir.File("x.npy");
        File.WriteAllBytes(npy, [1]);
        var r = CliRunner.Run(Required([.. args.Select(a => a.Replace("x.npy", npy))]));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain(message));
    }

    [Test]
    public void AWavVoiceNeedsTheEncoder()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("a.wav"), [1]);
        var r = CliRunner.Run(Required("--voice", $"anna={dir.File("a.wav")}:Hello: it is me."));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain("--codec-encoder"));
    }

    [Test]
    public void VoiceSpecsAndVoiceDirectories()
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("anna.wav"), [1]);
        File.WriteAllText(dir.File("anna.txt"), "Hello: it is me.\n");
        File.WriteAllBytes(dir.File("bob.npy"), [1]);
        File.WriteAllBytes(dir.File("bob.wav"), [1]);
        File.WriteAllText(dir.File("bob.txt"), "Bob here.");
        File.WriteAllText(dir.File("notes.md"), "ignored");

        var (name, voice) = VoiceSources.Parse($"anna={dir.File("anna.wav")}:Hello: it is me.");
        Assert.That(name, Is.EqualTo("anna"));
        Assert.That(voice.WavPath, Is.EqualTo(dir.File("anna.wav")));
        Assert.That(voice.Transcript, Is.EqualTo("Hello: it is me."));
        Assert.That(VoiceSources.Parse($"a={dir.File("bob.npy")}:@{dir.File("bob.txt")}").Voice.Transcript, Is.EqualTo("Bob here."));
        Assert.Throws<ArgumentException>(() => VoiceSources.Parse("=x.wav:Hi"));
        Assert.Throws<ArgumentException>(() => VoiceSources.Parse($"a={dir.File("anna.wav")}:  "));
        Assert.Throws<InvalidInputException>(() => VoiceSources.Parse($"a={dir.File("none.wav")}:Hi."));

        var voices = VoiceSources.FromDirectory(dir.Path);
        Assert.That(voices.Select(v => v.Name), Is.EqualTo(new[] { "anna", "bob" }));
        Assert.That(voices[1].Voice.CodesPath, Is.EqualTo(dir.File("bob.npy")), "codes win over the WAV");
        Assert.That(voices[0].Voice.Transcript, Is.EqualTo("Hello: it is me."));

        File.WriteAllBytes(dir.File("carl.wav"), [1]);
        Assert.That(() => VoiceSources.FromDirectory(dir.Path), Throws.InstanceOf<InvalidInputException>().With.Message.Contains("carl.txt"));
        var r = CliRunner.Run(Required("--voices-dir", dir.Path, "--codec-encoder", "e.onnx"));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("carl.txt"));
    }

    [Test]
    public void AModelThatFailsToLoadIsExit3InOneLine()
    {
        EspeakTestSupport.RequireEspeak();
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllText(dir.File("bad.pt"), "not a checkpoint");
        var r = CliRunner.Run("serve", "--checkpoint", dir.File("bad.pt"),
            "--symbols", TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"), "--codec-decoder", "d.onnx",
            "--voice", $"a={TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy")}:Go to her.", "--port", "0");
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err.Split('\n').Count(l => l.StartsWith("valle: error:")), Is.EqualTo(1), r.Err);
        Assert.That(r.Err, Does.Contain("bad.pt"));
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    [Test]
    public async Task TheProcessServesAndExits0OnSigterm()
    {
        EspeakTestSupport.RequireEspeak();
        string checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { ValleProcess.ValleDll, "serve", "--checkpoint", checkpoint,
                     "--symbols", TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"), "--codec-decoder", EncodecTestModels.Decoder,
                     "--voice", $"codes={TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy")}:Go to her.",
                     "--port", "0", "--threads", "1" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var err = new System.Text.StringBuilder();
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? address = null;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m) address = m.Groups[1].Value;
            if (e.Data.Contains("ready:") && address is not null) ready.TrySetResult(address);
        };
        process.BeginErrorReadLine();
        try
        {
            string url = await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
            Assert.That((await http.GetAsync("/ready")).IsSuccessStatusCode, Is.True);
            var speech = await ServeFixture.PostSpeech(http, ServeFixture.Body("Hello."));
            Assert.That(speech.IsSuccessStatusCode, Is.True, await speech.Content.ReadAsStringAsync());

            Assert.That(kill(process.Id, 15), Is.Zero, "SIGTERM sent");
            Assert.That(await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token).ContinueWith(t => t.IsCompletedSuccessfully), Is.True, "exited");
            process.WaitForExit();
            lock (err) Assert.That(process.ExitCode, Is.EqualTo(0), err.ToString());
            lock (err) Assert.That(err.ToString(), Does.Contain("stopped"));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
