using System.Diagnostics;
using VallE.Tests.Support;
using VallE.Weights.IO;
using VallE.Weights.NumPy;

namespace VallE.Tests.Probes;

/// <summary>
/// Output paths (hardening classes 3, 6, 9 and 10): device nodes and FIFOs are written in place, <c>-</c> is
/// standard output, long legal names work, bad ones fail before any work, an output never overwrites an input,
/// and a failed convert leaves nothing behind.
/// </summary>
public class OutputProbes
{
    private static string[] Generate(string output, params string[] extra) =>
    [
        "generate", "--checkpoint", ProbeInputs.TinyModel, "--text-tokens", ProbeInputs.Tokens,
        "--prompt-codes", ProbeInputs.PromptCodes, "--codes-out", output, "--threads", "1", "--top-k", "1", .. extra,
    ];

    [Test]
    public void DevNullStaysADevice()
    {
        if (!File.Exists("/dev/null")) Assert.Ignore("no /dev/null here");
        var r = ValleProcess.Run(Generate("/dev/null"));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(FileIdentity.Of("/dev/null")?.Kind, Is.EqualTo(FileKind.CharacterDevice), "/dev/null was replaced by a file");
    }

    [Test]
    public void FifoIsWrittenInPlace()
    {
        using var p = new Probe();
        string fifo = p.Own("codes.fifo");
        if (!MakeFifo(fifo)) Assert.Ignore("mkfifo is not available here");
        var reader = Task.Run(() => File.ReadAllBytes(fifo));   // blocks until the writer opens and closes it
        var r = ValleProcess.Run(Generate(fifo));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(reader.Wait(TimeSpan.FromSeconds(30)), "the FIFO was never written");
        Assert.That(reader.Result.AsSpan(1, 5).ToArray(), Is.EqualTo("NUMPY"u8.ToArray()));
        Assert.That(FileIdentity.Of(fifo)?.Kind, Is.EqualTo(FileKind.Fifo));
        Assert.That(p.Leftovers(), Is.Empty);
    }

    [Test]
    public void DashWritesTheSameBytesToStandardOutput()
    {
        using var p = new Probe();
        var toFile = ValleProcess.Run(Generate(p.Own("a.npy")));
        var toStdout = ValleProcess.Run(Generate("-"));
        Assert.That(toFile.ExitCode, Is.Zero, toFile.ToString());
        Assert.That(toStdout.ExitCode, Is.Zero, toStdout.ToString());
        Assert.That(toStdout.Stdout, Is.EqualTo(File.ReadAllBytes(p.File("a.npy"))));
        Assert.That(toStdout.Err, Does.Contain("generated"), "the summary stays on stderr");
    }

    [Test]
    public void LegalLongNameWorks()
    {
        using var p = new Probe();
        string name = new string('n', 226) + ".npy";   // 230 characters: legal; the old temp name was not
        var r = ValleProcess.Run(Generate(p.Own(name)));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(p.Leftovers(), Is.Empty);
        Assert.That(File.Exists(p.File(name)));
    }

    [Test]
    public void OverlongNameFailsBeforeAnyWork()
    {
        using var p = new Probe();
        var r = ValleProcess.Run(Generate(p.File(new string('n', 260) + ".npy")));
        p.Fails(r, 3, "file name is 264 bytes long", maxSeconds: 10);
        Assert.That(r.Err, Does.Not.Contain("generated"), "failed before generating");
    }

    /// <summary>A name that fits but whose per-sentence names (NAME.001.wav) would not: said before synthesis starts.</summary>
    [Test]
    public void SentenceNamesAreCheckedBeforeSynthesis()
    {
        ProbeInputs.RequireEspeak();
        using var p = new Probe();
        string output = p.File(new string('s', 249) + ".wav");   // 253 bytes; its sentence files would have 257
        var r = ValleProcess.Run(["synth", "--checkpoint", ProbeInputs.TinyModel, "--symbols", ProbeInputs.Symbols,
            "--codec-decoder", ProbeInputs.CodecDecoder, "--prompt-codes", ProbeInputs.PromptCodes, "--prompt-text", "Go to her.",
            "--text", "One. Two.", "--sentences", "--out", output, "--threads", "1"]);
        p.Fails(r, 3, "file name is 257 bytes long", maxSeconds: 10);
    }

    [Test]
    public void MissingOutputFolderFailsBeforeAnyWork()
    {
        var r = ValleProcess.Run(Generate("/nonexistent-folder/out.npy"));
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Err, Does.Contain("output directory does not exist").And.Not.Contain("generated"), r.ToString());
    }

    [TestCase("same")]
    [TestCase("dot-path")]
    [TestCase("symlink")]
    [TestCase("hardlink")]
    public void OutputThatIsAnInputIsRefused(string how)
    {
        using var p = new Probe();
        string prompt = p.Input("prompt.npy", File.ReadAllBytes(ProbeInputs.PromptCodes));
        byte[] before = File.ReadAllBytes(prompt);
        string output = how switch
        {
            "same" => prompt,
            "dot-path" => Path.Combine(p.Dir.Path, ".", "prompt.npy"),
            "symlink" => File.CreateSymbolicLink(p.Own("link.npy"), prompt).FullName,
            _ => HardLink(prompt, p.Own("hard.npy")),
        };
        var r = ValleProcess.Run(["generate", "--checkpoint", ProbeInputs.TinyModel, "--text-tokens", ProbeInputs.Tokens,
            "--prompt-codes", prompt, "--codes-out", output, "--threads", "1"]);
        p.Fails(r, 3, "same file as the input");
        Assert.That(File.ReadAllBytes(prompt), Is.EqualTo(before));
    }

    /// <summary>convert onto a full disk (a 1 MB tmpfs): exit 3, and no folder (final or temporary) is left behind.</summary>
    [Test]
    public void ConvertOntoAFullDiskLeavesNothing()
    {
        using var p = new Probe();
        string mount = p.Own("small");
        Directory.CreateDirectory(mount);
        if (!Sh($"mount -t tmpfs -o size=1m tmpfs '{mount}'")) Assert.Ignore("cannot mount a small tmpfs here (needs root)");
        try
        {
            var r = ValleProcess.Run(["convert", ProbeInputs.SlowModel, Path.Combine(mount, "converted")]);
            Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
            Assert.That(r.Err, Does.Contain("valle: error:").And.Not.Contain("   at "), r.ToString());
            Assert.That(Directory.EnumerateFileSystemEntries(mount), Is.Empty, r.ToString());
        }
        finally { Sh($"umount '{mount}'"); }
    }

    private static string HardLink(string target, string link)
    {
        if (!Sh($"ln '{target}' '{link}'")) Assert.Ignore("ln is not available here");
        return link;
    }

    private static bool MakeFifo(string path) => Sh($"mkfifo '{path}'");

    private static bool Sh(string command)
    {
        try
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command);
            using var process = Process.Start(psi)!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}
