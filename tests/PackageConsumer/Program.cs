// Synthesises "Hello." through ITextToSpeechClient with the VallE.Runtime package and the valle-tiny fixtures.
// Usage: PackageConsumer <encodec_decoder.onnx> <shared-dir (holds fixtures/)> [out.wav]
// Exit codes: 0 ok, 1 failure, 2 usage.
using Microsoft.Extensions.AI;
using VallE;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: PackageConsumer <encodec_decoder.onnx> <shared-dir> [out.wav]");
    return 2;
}
string decoder = Path.GetFullPath(args[0]);
string shared = Path.GetFullPath(args[1]);
string? outPath = args.Length > 2 ? args[2] : null;
string fixtures = Path.Combine(shared, "fixtures");

var options = new ValleSpeechClientOptions
{
    Checkpoint = Path.Combine(fixtures, "valle", "valle-tiny", "checkpoint.pt"),
    Symbols = Path.Combine(fixtures, "text", "unique_text_tokens.k2symbols"),
    CodecDecoder = decoder,
    Device = "cpu",
    Threads = 1,
    Log = Console.Error.WriteLine,
};
options.Voices["codes"] = ValleVoice.FromCodes(Path.Combine(fixtures, "valle", "valle-tiny", "prompt_codes.npy"), "Go to her.");

try
{
    using ITextToSpeechClient client = new ValleSpeechClient(options);
    TextToSpeechResponse response = await client.GetAudioAsync("Hello.",
        new TextToSpeechOptions { VoiceId = "codes", AdditionalProperties = new() { ["seed"] = 7, ["max_duration"] = 0.3 } });
    DataContent audio = response.Contents.OfType<DataContent>().Single();
    byte[] wav = audio.Data.ToArray();
    bool riff = wav.Length > 44 && wav.AsSpan(0, 4).SequenceEqual("RIFF"u8) && wav.AsSpan(8, 4).SequenceEqual("WAVE"u8);
    Console.WriteLine($"VallE.Runtime {typeof(ValleSpeechClient).Assembly.GetName().Version}: {audio.MediaType}, {wav.Length} bytes");
    if (outPath is not null) File.WriteAllBytes(outPath, wav);
    if (audio.MediaType != "audio/wav" || !riff)
    {
        Console.Error.WriteLine("error: the response is not a RIFF/WAVE file with samples");
        return 1;
    }
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
    return 1;
}
