using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Tests.Support;
using VallE.Weights.NumPy;

namespace VallE.Tests.Codec;

/// <summary>
/// Vocos (tools/export_vocos_onnx.py, random weights) through our runtime: the ONNX graph, whose inverse STFT is a
/// DFT basis in ConvTranspose1d, against PyTorch's model as defined (torch.fft.irfft, fold, window envelope) at
/// lengths from 1 frame (envelope from a single window) to 300; chunked decoding against one run; --vocoder.
/// </summary>
public class VocosTests
{
    [TestCaseSource(typeof(VocosTestModels), nameof(VocosTestModels.ReferenceFrames))]
    public void DecoderMatchesPyTorchAtEveryLength(int frames)
    {
        AudioCodes codes = ReferenceCodes(frames);
        float[] expected = Npy.Read(VocosTestModels.Reference($"decoded_T{frames}.npy")).ToFloat32();
        using var decoder = EncodecDecoder.Open(VocosTestModels.Decoder);
        Assert.That((decoder.DeclaredVocoder, decoder.Vocoder), Is.EqualTo(((Vocoder?)Vocoder.Vocos, Vocoder.Vocos)));
        float[] audio = decoder.Decode(codes);
        Assert.That(audio, Has.Length.EqualTo(frames * 320));
        float peak = expected.Max(Math.Abs);
        double maxDiff = audio.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"T={frames}: max |ORT - torch| = {maxDiff:E2} (peak {peak:F3})");
        Assert.That(peak, Is.GreaterThan(0.05f), "the reference should not be near silence");
        Assert.That(maxDiff, Is.LessThan(1e-4 * Math.Max(1, peak)), $"max |ORT - torch| = {maxDiff} (peak {peak})");
    }

    /// <summary>
    /// Vocos is not causal but has a finite receptive field (8 + 1 convolutions of kernel 7: ±27 frames, plus ±2 of
    /// the inverse STFT), shorter than the chunking context, so windows agree with one run up to float rounding.
    /// </summary>
    [Test]
    public void ChunkedDecodeEqualsOneRun()
    {
        AudioCodes codes = ReferenceCodes(300);
        using var decoder = EncodecDecoder.Open(VocosTestModels.Decoder);
        decoder.Chunking = new EncodecChunking { ChunkFrames = 1_000_000 };
        float[] whole = decoder.Decode(codes);
        decoder.Chunking = new EncodecChunking { ChunkFrames = 110, ContextFrames = 32, CrossfadeFrames = 8 };
        int runs = 0;
        decoder.ChunkDone = _ => runs++;
        float[] chunked = decoder.Decode(codes);
        Assert.That(runs, Is.GreaterThanOrEqualTo(3));
        double maxDiff = whole.Zip(chunked, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"chunked ({runs} windows) vs one run: max |diff| {maxDiff:E2}");
        Assert.That(maxDiff, Is.LessThan(1e-5));
    }

    /// <summary>The default chunking (1500-frame windows, 75 of context, 16-frame crossfade) on 1600 frames: two windows.</summary>
    [Test]
    public void DefaultChunkingSeamIsExact()
    {
        const int frames = EncodecChunking.DefaultChunkFrames + 100;
        var random = new Random(5);
        var codes = new AudioCodes(Enumerable.Range(0, frames * 8).Select(_ => (long)random.Next(1024)).ToArray(), frames);
        using var decoder = EncodecDecoder.Open(VocosTestModels.Decoder);
        int runs = 0;
        decoder.ChunkDone = _ => runs++;
        float[] chunked = decoder.Decode(codes);
        Assert.That(runs, Is.EqualTo(2));
        decoder.Chunking = new EncodecChunking { ChunkFrames = 1_000_000 };
        float[] whole = decoder.Decode(codes);
        double maxDiff = whole.Zip(chunked, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"default chunking, {frames} frames: max |chunked - one run| {maxDiff:E2}");
        Assert.That(maxDiff, Is.LessThan(1e-5));
    }

    [Test]
    public void DecodeCommandTakesVocosAndChecksVocoder()
    {
        using var dir = TestPaths.CreateTempDir();
        Npy.Write(dir.File("c.npy"), NpyArray.FromInt64(ReferenceCodes(7).Span.ToArray(), 7, 8));
        float[] expected = Npy.Read(VocosTestModels.Reference("decoded_T7.npy")).ToFloat32();
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--vocoder", "vocos"] })
        {
            var r = CliRunner.Run(["decode", dir.File("c.npy"), "--codec-decoder", VocosTestModels.Decoder, "--out", dir.File("o.wav"), "--sample-format", "f32", .. extra]);
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(r.Err, Does.Contain("with vocos"));
            float[] got = WavReader.Read(dir.File("o.wav")).Samples;
            Assert.That(got.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-4));
        }

        var wrong = CliRunner.Run("decode", dir.File("c.npy"), "--codec-decoder", VocosTestModels.Decoder, "--out", dir.File("x.wav"), "--vocoder", "encodec");
        Assert.That(wrong.ExitCode, Is.EqualTo(3), wrong.ToString());
        Assert.That(wrong.Err, Does.Contain("is a vocos decoder, not encodec (--vocoder encodec)"));
        Assert.That(File.Exists(dir.File("x.wav")), Is.False);

        var bad = CliRunner.Run("decode", dir.File("c.npy"), "--codec-decoder", VocosTestModels.Decoder, "--out", dir.File("x.wav"), "--vocoder", "hifigan");
        Assert.That((bad.ExitCode, bad.Err), Is.EqualTo((2, "valle: error: --vocoder must be encodec or vocos, not 'hifigan'\n")));
    }

    [Test]
    public void SynthSpeaksThroughVocos()
    {
        VallE.Tests.Text.EspeakTestSupport.RequireEspeak();
        using var dir = TestPaths.CreateTempDir();
        string prompt = dir.File("prompt.npy");
        File.Copy(TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy"), prompt);
        string[] args =
        [
            "synth", "--checkpoint", TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            "--symbols", TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"),
            "--codec-decoder", VocosTestModels.Decoder, "--vocoder", "vocos", "--prompt-codes", prompt,
            "--prompt-text", "Go to her.", "--text", "Hello there.", "--seed", "7", "--max-duration", "0.8",
            "--threads", "1", "--out", dir.File("a.wav"),
        ];
        var r = CliRunner.Run(args);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.Out, Does.Contain("codec (vocos)"));
        WavAudio wav = WavReader.Read(dir.File("a.wav"));
        Assert.That((wav.Format.SampleRate, wav.Frames % 320), Is.EqualTo((24000, 0)));
        Assert.That(wav.Frames, Is.GreaterThan(0));
    }

    /// <summary>The reference codes [1, 8, T] as frame-major <see cref="AudioCodes"/>.</summary>
    private static AudioCodes ReferenceCodes(int frames)
    {
        long[] qt = Npy.Read(VocosTestModels.Reference($"codes_T{frames}.npy")).ToInt64();
        var codes = new long[qt.Length];
        for (int q = 0; q < 8; q++)
            for (int f = 0; f < frames; f++) codes[f * 8 + q] = qt[q * frames + f];
        return new AudioCodes(codes, frames);
    }
}
