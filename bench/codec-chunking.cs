#:project ../src/VallE.Runtime/VallE.Runtime.csproj
// Error of chunked EnCodec encoding/decoding against one ONNX run over the whole input (bench/codec-memory.sh).
//   dotnet run --file bench/codec-chunking.cs -c Release -- ENCODEC_DIR IN.wav FRAMES
// Encodes the first FRAMES frames of IN.wav (24 kHz after resampling) once with EncodecChunking.Default and once
// as a single run, and decodes the single run's codes both ways; prints the fraction of codes that differ and the
// max |difference| and SNR of the decoded audio, over everything and within 1 s of a seam.
using System.Globalization;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;

if (args.Length != 3) { Console.Error.WriteLine("usage: codec-chunking.cs ENCODEC_DIR IN.wav FRAMES"); return 2; }
string dir = args[0];
int frames = int.Parse(args[2], CultureInfo.InvariantCulture);
const int hop = EncodecContract.HopLength;
float[] source = PromptAudio.LoadMono(args[1], EncodecContract.SampleRate, out _);
if (source.Length < (long)frames * hop) { Console.Error.WriteLine($"{args[1]} holds fewer than {frames} frames"); return 2; }
float[] audio = source[..(frames * hop)];
var chunked = EncodecChunking.Default;
var whole = new EncodecChunking { ChunkFrames = frames };
var seams = chunked.Plan(frames).Skip(1).Select(c => c.Start).ToArray();
Console.WriteLine($"{frames} frames ({frames / 75.0:F1} s), {seams.Length + 1} windows of <= {chunked.ChunkFrames} frames, " +
    $"context {chunked.ContextFrames}, crossfade {chunked.CrossfadeFrames}; seams at frames {string.Join(", ", seams)}");

using (var encoder = EncodecEncoder.Open(Path.Combine(dir, "encodec_encoder.onnx")))
{
    encoder.Chunking = whole;
    AudioCodes a = encoder.Encode(audio);
    encoder.Chunking = chunked;
    AudioCodes b = encoder.Encode(audio);
    int differ = 0;
    for (int i = 0; i < a.Span.Length; i++) if (a.Span[i] != b.Span[i]) differ++;
    Console.WriteLine($"encode: {differ} of {a.Span.Length} codes differ ({100.0 * differ / a.Span.Length:F3}%)");

    using var decoder = EncodecDecoder.Open(Path.Combine(dir, "encodec_decoder.onnx"));
    decoder.Chunking = whole;
    float[] x = decoder.Decode(a);
    decoder.Chunking = chunked;
    float[] y = decoder.Decode(a);
    bool nearSeam(long i) => seams.Any(s => Math.Abs(i / hop - s) < 75);
    Report("decode, all samples", x, y, _ => true);
    Report("decode, within 1 s of a seam", x, y, nearSeam);
}
return 0;

static void Report(string what, float[] x, float[] y, Func<long, bool> keep)
{
    double signal = 0, noise = 0, max = 0;
    for (long i = 0; i < x.Length; i++)
    {
        if (!keep(i)) continue;
        double d = x[i] - y[i];
        signal += (double)x[i] * x[i];
        noise += d * d;
        max = Math.Max(max, Math.Abs(d));
    }
    string snr = noise == 0 ? "inf (identical)" : $"{10 * Math.Log10(signal / noise):F1} dB";
    Console.WriteLine($"{what}: max |chunked - one run| {max:E2}, SNR {snr}");
}
