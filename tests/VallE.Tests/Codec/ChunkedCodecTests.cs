using VallE.Runtime.Codec;
using VallE.Runtime.Onnx;
using VallE.Tests.Engine;

namespace VallE.Tests.Codec;

/// <summary>
/// Long inputs are encoded and decoded window by window (<see cref="EncodecChunking"/>). With the tiny convolutional
/// models (5-frame receptive field, less than the context) chunked must equal one run exactly, seams included; with
/// the random-weight EnCodec pair (LSTM, real receptive field) it must be close; short inputs stay one run.
/// </summary>
public class ChunkedCodecTests
{
    private static readonly EncodecChunking Small = new() { ChunkFrames = 40, ContextFrames = 8, CrossfadeFrames = 4 };
    private static readonly EncodecChunking Whole = new() { ChunkFrames = 1_000_000 };

    [TestCase(41)]
    [TestCase(97)]
    [TestCase(203)]
    public void ChunkedDecodeOfAConvolutionalModelEqualsOneRun(int frames)
    {
        AudioCodes codes = RandomCodes(frames, seed: frames);
        using var decoder = EncodecDecoder.Open(TinyOnnxModels.ConvDecoder);
        decoder.Chunking = Whole;
        float[] whole = decoder.Decode(codes);
        decoder.Chunking = Small;
        int runs = 0;
        decoder.ChunkDone = _ => runs++;
        float[] chunked = decoder.Decode(codes);
        Assert.That(runs, Is.EqualTo(Small.Plan(frames).Count).And.GreaterThan(1));
        Assert.That(chunked, Has.Length.EqualTo(frames * 320));
        for (int i = 0; i < whole.Length; i++)
            if (chunked[i] != whole[i]) Assert.Fail($"sample {i} (frame {i / 320}): chunked {chunked[i]}, one run {whole[i]}");
    }

    [TestCase(97 * 320 - 17, 97)]
    [TestCase(96 * 320 + 1, 97)]
    [TestCase(203 * 320, 203)]
    public void ChunkedEncodeOfAConvolutionalModelEqualsOneRun(int samples, int expectedFrames)
    {
        // In steps of 1/64, as the test model needs to compute exactly (tiny_onnx_models.py).
        float[] audio = Chirp(samples, seed: samples).Select(x => MathF.Round(x * 64) / 64).ToArray();
        using var encoder = EncodecEncoder.Open(TinyOnnxModels.ConvEncoder);
        encoder.Chunking = Whole;
        AudioCodes whole = encoder.Encode(audio);
        encoder.Chunking = Small;
        int runs = 0;
        encoder.ChunkDone = _ => runs++;
        AudioCodes chunked = encoder.Encode(audio);
        Assert.That((chunked.Frames, whole.Frames), Is.EqualTo((expectedFrames, expectedFrames)));
        Assert.That(runs, Is.GreaterThan(1));
        CodeAssert.Equal(whole, chunked);
        Assert.That(whole.Span.ToArray().Distinct().Count(), Is.GreaterThan(100), "the test model's codes should vary");
    }

    [Test]
    public void InputsUpToOneChunkAreOneRunAndLongerOnesAreSplit()
    {
        int chunk = EncodecChunking.DefaultChunkFrames;
        using var decoder = EncodecDecoder.Open(TinyOnnxModels.ConvDecoder);
        var runs = new List<CodecChunk>();
        decoder.ChunkDone = runs.Add;
        Assert.That(decoder.Decode(RandomCodes(chunk, 1)), Has.Length.EqualTo(chunk * 320));
        Assert.That(runs, Is.EqualTo(new[] { new CodecChunk(0, chunk, 0, chunk) }));
        runs.Clear();
        Assert.That(decoder.Decode(RandomCodes(chunk + 1, 1)), Has.Length.EqualTo((chunk + 1) * 320));
        Assert.That(runs, Has.Count.EqualTo(2));

        using var encoder = EncodecEncoder.Open(TinyOnnxModels.ConvEncoder);
        runs.Clear();
        encoder.ChunkDone = runs.Add;
        int frames = encoder.Encode(new float[chunk * 320]).Frames;
        Assert.That((frames, runs.Count), Is.EqualTo((chunk, 1)));
        runs.Clear();
        frames = encoder.Encode(new float[chunk * 320 + 1]).Frames;
        Assert.That((frames, runs.Count), Is.EqualTo((chunk + 1, 2)));
    }

    [Test]
    public void ShortInputsAreBitIdenticalToOneRunOfTheModel()
    {
        const int frames = 75;
        AudioCodes codes = RandomCodes(frames, seed: 7);
        using var decoder = EncodecDecoder.Open(EncodecTestModels.Decoder);
        float[] audio = decoder.Decode(codes);

        using var session = OnnxSession.Open(EncodecTestModels.Decoder);
        var qt = new long[codes.Span.Length];
        for (int t = 0; t < frames; t++)
            for (int q = 0; q < 8; q++) qt[q * frames + t] = codes[t, q];
        using var input = OnnxValue.FromInt64(qt, 1, 8, frames);
        using var output = session.Run([("codes", input)], ["audio"])[0];
        Assert.That(audio, Is.EqualTo(output.ToArray<float>()));
    }

    [Test]
    public void ChunkedEnCodecDecodeIsCloseToOneRun()
    {
        const int frames = 240;
        AudioCodes codes = RandomCodes(frames, seed: 3);
        using var decoder = EncodecDecoder.Open(EncodecTestModels.Decoder);
        decoder.Chunking = Whole;
        float[] whole = decoder.Decode(codes);
        decoder.Chunking = new EncodecChunking { ChunkFrames = 100, ContextFrames = 25, CrossfadeFrames = 8 };
        float[] chunked = decoder.Decode(codes);
        Assert.That(chunked, Has.Length.EqualTo(frames * 320));
        double signal = whole.Sum(x => (double)x * x), noise = whole.Zip(chunked, (a, b) => (double)(a - b) * (a - b)).Sum();
        double snr = 10 * Math.Log10(signal / Math.Max(noise, 1e-30));
        TestContext.Out.WriteLine($"chunked vs one run: SNR {snr:F1} dB, max |diff| {whole.Zip(chunked, (a, b) => Math.Abs(a - b)).Max():E2}");
        Assert.That(snr, Is.GreaterThan(60));
    }

    [Test]
    public void ChunkedEnCodecEncodeKeepsAlmostEveryCode()
    {
        float[] audio = Chirp(240 * 320, seed: 5);
        using var encoder = EncodecEncoder.Open(EncodecTestModels.Encoder);
        encoder.Chunking = Whole;
        long[] whole = encoder.Encode(audio).Span.ToArray();
        encoder.Chunking = new EncodecChunking { ChunkFrames = 100, ContextFrames = 25, CrossfadeFrames = 8 };
        AudioCodes chunkedCodes = encoder.Encode(audio);
        Assert.That(chunkedCodes.Frames, Is.EqualTo(240));
        long[] chunked = chunkedCodes.Span.ToArray();
        int differ = whole.Zip(chunked).Count(p => p.First != p.Second);
        TestContext.Out.WriteLine($"chunked vs one run: {differ} of {whole.Length} codes differ");
        Assert.That(differ, Is.LessThanOrEqualTo(whole.Length / 100));
    }

    [Test]
    public void CancellingBetweenWindowsStopsBeforeTheNext()
    {
        using var decoder = EncodecDecoder.Open(TinyOnnxModels.ConvDecoder);
        decoder.Chunking = Small;
        using var cts = new CancellationTokenSource();
        int runs = 0;
        decoder.ChunkDone = _ => { runs++; cts.Cancel(); };
        Assert.Throws<OperationCanceledException>(() => decoder.Decode(RandomCodes(203, 1), cts.Token));
        Assert.That(runs, Is.EqualTo(1));

        using var encoder = EncodecEncoder.Open(TinyOnnxModels.ConvEncoder);
        encoder.Chunking = Small;
        using var cts2 = new CancellationTokenSource();
        runs = 0;
        encoder.ChunkDone = _ => { runs++; cts2.Cancel(); };
        Assert.Throws<OperationCanceledException>(() => encoder.Encode(new float[203 * 320], cts2.Token));
        Assert.That(runs, Is.EqualTo(1));

        // Cancelled before the call: nothing runs, short input or not.
        runs = 0;
        Assert.Throws<OperationCanceledException>(() => decoder.Decode(RandomCodes(5, 1), cts.Token));
        Assert.Throws<OperationCanceledException>(() => encoder.Encode(new float[320], cts2.Token));
        Assert.That(runs, Is.Zero);
    }

    internal static AudioCodes RandomCodes(int frames, int seed)
    {
        var rng = new Random(seed);
        var codes = new long[frames * 8];
        for (int i = 0; i < codes.Length; i++) codes[i] = rng.Next(1024);
        return new AudioCodes(codes, frames);
    }

    /// <summary>A chirp plus a little noise: broadband, deterministic, within [-1, 1].</summary>
    private static float[] Chirp(int samples, int seed)
    {
        var rng = new Random(seed);
        var audio = new float[samples];
        for (int i = 0; i < samples; i++)
        {
            double t = i / 24000.0;
            audio[i] = (float)(0.3 * Math.Sin(2 * Math.PI * (200 + 2000 * t) * t) + 0.05 * (rng.NextDouble() * 2 - 1));
        }
        return audio;
    }
}
