using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VallE.Runtime.Audio;
using VallE.Runtime.Codec;
using VallE.Weights.IO;
using VallE.Weights.NumPy;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle encode IN.wav --codec-encoder ENC.onnx --out CODES.npy</c>: any readable WAV (mixed down to mono,
/// resampled to 24 kHz) to EnCodec codes, saved as int64 <c>[T, 8]</c> — the layout <c>generate</c> takes as a
/// prompt. A one-line summary goes to stderr.
/// </summary>
internal static class EncodeCommand
{
    public static Command Create(CliContext ctx)
    {
        var inputArg = new Argument<string>("IN.wav") { Description = "WAV file (PCM 8-32 bit or float, any rate, any channels)." };
        var encoderOpt = new Option<string>("--codec-encoder")
        {
            HelpName = "ENC.onnx", Required = true,
            Description = "EnCodec encoder ONNX model (tools/export_encodec_onnx.py).",
        };
        var outOpt = new Option<string>("--out", "-o") { HelpName = "CODES.npy", Required = true, Description = "Output .npy (int64 [T, 8]; '-' = standard output)." };
        var codec = new CodecOptions();

        var command = new Command("encode", "Encode a WAV file to EnCodec codes with an ONNX encoder.");
        command.Arguments.Add(inputArg);
        command.Options.Add(encoderOpt);
        command.Options.Add(outOpt);
        codec.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            string input = parse.GetValue(inputArg)!;
            string output = parse.GetValue(outOpt)!;
            var options = codec.Read(parse, ctx);
            string encoderPath = parse.GetValue(encoderOpt)!;
            AtomicFile.Check(output, input, encoderPath);
            var clock = Stopwatch.StartNew();
            float[] audio = PromptAudio.LoadMono(input, EncodecContract.SampleRate, out WavFormat source);
            using var encoder = EncodecEncoder.Open(encoderPath, options);
            ctx.Cancellation.ThrowIfCancellationRequested();
            AudioCodes codes = encoder.Encode(audio, ctx.Cancellation);
            Npy.WriteInt64(output, codes.Span, codes.Frames, codes.Codebooks);
            ctx.Info(string.Format(CultureInfo.InvariantCulture,
                "encoded {0:F2} s of audio ({1}) to {2} frames x {3} codes -> {4} ({5:F2} s)",
                audio.Length / (double)EncodecContract.SampleRate, source, codes.Frames, codes.Codebooks, output,
                clock.Elapsed.TotalSeconds));
            return ExitCodes.Success;
        }));
        return command;
    }
}
