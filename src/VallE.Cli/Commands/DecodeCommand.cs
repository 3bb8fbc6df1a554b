using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Weights.IO;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle decode CODES.npy --codec-decoder DEC.onnx --out OUT.wav [--vocoder encodec|vocos] [--sample-format pcm16|f32]</c>: EnCodec codes
/// (int64 or int32, <c>[T, 8]</c> or <c>[1, T, 8]</c>) to a 24 kHz mono WAV. PCM16 clips samples outside [-1, 1]:
/// how many is reported, never silent.
/// </summary>
internal static class DecodeCommand
{
    public static Command Create(CliContext ctx)
    {
        var inputArg = new Argument<string>("CODES.npy") { Description = "EnCodec codes, int64 [T, 8] (as written by encode/generate)." };
        var decoderOpt = new Option<string>("--codec-decoder")
        {
            HelpName = "DEC.onnx", Required = true,
            Description = "Decoder ONNX model: EnCodec's (tools/export_encodec_onnx.py) or Vocos (tools/export_vocos_onnx.py).",
        };
        var vocoder = new VocoderCliOption();
        var outOpt = new Option<string>("--out", "-o") { HelpName = "OUT.wav", Required = true, Description = "Output WAV (24 kHz mono; '-' = standard output)." };
        var formatOpt = SampleFormatOption();
        var codec = new CodecOptions();

        var command = new Command("decode", "Decode EnCodec codes to a WAV file with an ONNX decoder (EnCodec or Vocos).");
        command.Arguments.Add(inputArg);
        command.Options.Add(decoderOpt);
        command.Options.Add(outOpt);
        command.Options.Add(formatOpt);
        vocoder.AddTo(command);
        codec.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            string input = parse.GetValue(inputArg)!;
            string output = parse.GetValue(outOpt)!;
            WavOutputFormat format = ParseSampleFormat(parse.GetValue(formatOpt));
            var options = codec.Read(parse, ctx);
            Vocoder? requested = vocoder.Read(parse);
            string decoderPath = parse.GetValue(decoderOpt)!;
            AtomicFile.Check(output, input, decoderPath);
            var clock = Stopwatch.StartNew();
            AudioCodes codes = ReadCodes(input);
            using var decoder = VocoderCliOption.Check(EncodecDecoder.Open(decoderPath, options), requested);
            ctx.Cancellation.ThrowIfCancellationRequested();
            float[] audio = decoder.Decode(codes, ctx.Cancellation);
            long clipped = WavWriter.Write(output, audio, EncodecContract.SampleRate, format);
            ReportClipping(ctx, clipped, audio.Length);
            ctx.Info(string.Format(CultureInfo.InvariantCulture, "decoded {0} frames to {1:F2} s of audio with {4} -> {2} ({3:F2} s)",
                codes.Frames, audio.Length / (double)EncodecContract.SampleRate, output, clock.Elapsed.TotalSeconds, decoder.Vocoder.Name()));
            return ExitCodes.Success;
        }));
        return command;
    }

    internal static Option<string> SampleFormatOption() => new("--sample-format")
    {
        HelpName = "pcm16|f32",
        Description = "WAV sample format: 16-bit PCM (clipped, clipping reported) or 32-bit float.",
        DefaultValueFactory = _ => "pcm16",
    };

    internal static WavOutputFormat ParseSampleFormat(string? value) => value switch
    {
        "pcm16" => WavOutputFormat.Pcm16,
        "f32" or "float32" => WavOutputFormat.Float32,
        _ => throw new UsageException($"--sample-format must be pcm16 or f32, not '{value}'"),
    };

    internal static void ReportClipping(CliContext ctx, long clipped, long total)
    {
        if (clipped == 0) return;
        ctx.Warn(string.Format(CultureInfo.InvariantCulture,
            "{0} of {1} samples ({2:F3}%) were outside [-1, 1] and clipped in the PCM16 output (use --sample-format f32 to keep them)",
            clipped, total, 100.0 * clipped / Math.Max(1, total)));
    }

    /// <summary>Reads a code matrix file: int64/int32 <c>[T, 8]</c> or <c>[1, T, 8]</c>.</summary>
    internal static AudioCodes ReadCodes(string path) => CodesFile.Read(path);
}
