using System.Buffers.Binary;
using VallE.Tests.Audio;
using VallE.Tests.Codec;
using VallE.Tests.Models;
using VallE.Tests.Support;
using VallE.Tests.Text;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Probes;

/// <summary>
/// The valid inputs the probes break one at a time, made once per test run (generated, no binary blobs): a tiny
/// model, a slower one (for interrupting work in progress), tokens, prompt codes and WAVs. Everything a probe
/// needs from outside (espeak-ng, the random EnCodec export, the shared symbol table) skips the probe when absent.
/// </summary>
internal static class ProbeInputs
{
    private static readonly Lazy<string> Root = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), $"valle-probes-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } };
        return dir;
    });

    private static readonly Lock Gate = new();

    private static string Make(string name, Action<string> create)
    {
        lock (Gate)
        {
            string path = Path.Combine(Root.Value, name);
            if (!File.Exists(path) && !Directory.Exists(path)) create(path);
            return path;
        }
    }

    /// <summary>A converted tiny VALL-E folder (d 16, 2 layers): every command runs on it in milliseconds.</summary>
    public static string TinyModel => Make("tiny-model", dir => InMemoryModels.WriteFolder(InMemoryModels.Tiny(), dir));

    /// <summary>
    /// A model slow enough to interrupt (d 256, 6 layers: a NAR pass over 3,000 positions takes about a second on
    /// two cores); used with <see cref="LongTokens"/> and <see cref="LongPromptCodes"/>.
    /// </summary>
    public static string SlowModel => Make("slow-model", dir => InMemoryModels.WriteFolder(InMemoryModels.Tiny() with
    {
        DModel = 256, NHead = 4, NumLayers = 6, NarDModel = 256, NarNHead = 4, NarNumLayers = 6,
    }, dir));

    /// <summary>&lt;bos&gt; 5 9 ... &lt;eos&gt;: 8 tokens.</summary>
    public static string Tokens => Make("tokens.npy", p => Npy.WriteInt64(p, [1, 5, 9, 7, 11, 13, 17, 2], 8));

    /// <summary>1,000 text tokens: the most an utterance of the slow model is given in the probes.</summary>
    public static string LongTokens => Make("long-tokens.npy", p =>
    {
        var t = Enumerable.Range(0, 1000).Select(i => (long)(3 + i % 400)).ToArray();
        t[0] = 1;
        t[^1] = 2;
        Npy.WriteInt64(p, t, t.Length);
    });

    /// <summary>4 frames of codes.</summary>
    public static string PromptCodes => Make("prompt.npy", p => Npy.WriteInt64(p, Codes(4), 4, 8));

    /// <summary>2,200 frames (29.3 s, under the 30 s prompt limit).</summary>
    public static string LongPromptCodes => Make("long-prompt.npy", p => Npy.WriteInt64(p, Codes(2200), 2200, 8));

    /// <summary>A 3 s 24 kHz PCM16 tone.</summary>
    public static string PromptWav => Make("prompt.wav", p => File.WriteAllBytes(p, Wav(24000, 3.0)));

    /// <summary>A WAV of <paramref name="seconds"/> seconds at <paramref name="rate"/> Hz.</summary>
    public static byte[] Wav(int rate, double seconds)
    {
        int n = (int)(rate * seconds);
        var samples = new float[n];
        for (int i = 0; i < n; i++) samples[i] = 0.3f * MathF.Sin(2 * MathF.PI * 220 * i / rate);
        return new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, rate, 16)).Chunk("data", WavBuilder.Samples(samples, 1, 16)).Build();
    }

    /// <summary>An .npy header (format 1.0) declaring <paramref name="shape"/> int64, followed by <paramref name="dataBytes"/> bytes.</summary>
    public static byte[] NpyHeader(string shape, int dataBytes = 16)
    {
        string dict = $"{{'descr': '<i8', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - total % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + dataBytes];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        System.Text.Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        return bytes;
    }

    public static string Symbols => TestPaths.RequireShared("text", "unique_text_tokens.k2symbols");
    public static string CodecEncoder => EncodecTestModels.Encoder;
    public static string CodecDecoder => EncodecTestModels.Decoder;

    public static void RequireEspeak() => EspeakTestSupport.RequireEspeak();

    private static long[] Codes(int frames) => Enumerable.Range(0, frames * 8).Select(i => (long)((i * 37) % 1024)).ToArray();
}
