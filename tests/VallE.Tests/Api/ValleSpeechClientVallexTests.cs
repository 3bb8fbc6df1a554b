using Microsoft.Extensions.AI;
using VallE.Runtime.Audio;
using VallE.Tests.Codec;
using VallE.Tests.Support;

namespace VallE.Tests.Api;

#pragma warning disable MEAI001 // ITextToSpeechClient is experimental in Microsoft.Extensions.AI 11.

/// <summary>
/// <see cref="ValleSpeechClient"/> with a VALL-E X checkpoint: no symbol table, preset and transcript voices, the
/// call's <see cref="TextToSpeechOptions.Language"/>, best-of and sliding prompts. Noise audio (untrained weights).
/// </summary>
[NonParallelizable]
public class ValleSpeechClientVallexTests
{
    private ValleSpeechClient? _client;

    private static ValleSpeechClientOptions Options()
    {
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = TestPaths.RequireShared("valle", "vallex-tiny", "checkpoint.pt"),
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
            Threads = 1,
        };
        options.Voices["alan"] = ValleVoice.FromPreset(TestPaths.RequireShared("vallex-presets", "alan.npz"));
        options.Voices["codes"] = ValleVoice.FromCodes(TestPaths.RequireShared("valle", "vallex-tiny", "prompt_codes.npy"), "你好。", "zh");
        return options;
    }

    private ValleSpeechClient Client => _client ??= new ValleSpeechClient(Options());

    [OneTimeTearDown]
    public void TearDown() => _client?.Dispose();

    private static ValleSpeechOptions Fast(string voice = "alan", string? language = null) =>
        new() { VoiceId = voice, Seed = 3, MaxDuration = 0.3, Language = language };

    private static WavAudio Wav(TextToSpeechResponse r)
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("a.wav"), r.Contents.OfType<DataContent>().Single().Data.ToArray());
        return WavReader.Read(dir.File("a.wav"));
    }

    [Test]
    public async Task PresetAndTranscriptVoicesSpeakInTheCallsLanguage()
    {
        var en = await Client.GetAudioAsync("Hello there.", Fast(language: "en"));
        Assert.That(Wav(en).Frames, Is.GreaterThan(0));
        var auto = await Client.GetAudioAsync("Hello there.", Fast());
        Assert.That(Wav(auto).Frames, Is.EqualTo(Wav(en).Frames));
        Assert.That(auto.Contents.OfType<DataContent>().Single().Data.ToArray(), Is.EqualTo(en.Contents.OfType<DataContent>().Single().Data.ToArray()));
        var zh = await Client.GetAudioAsync("你好。", Fast("codes", "zh"));
        Assert.That(Wav(zh).Frames, Is.GreaterThan(0));
        var mix = await Client.GetAudioAsync("[EN]Hi.[EN][ZH]你好。[ZH]", Fast("codes", "mix"));
        Assert.That(Wav(mix).Frames, Is.GreaterThan(0));
    }

    [Test]
    public async Task SentencesSlideAndBestOfRuns()
    {
        var options = Fast();
        options.SplitSentences = true;
        options.PromptMode = "sliding";
        options.BestOf = 2;
        var r = await Client.GetAudioAsync("One. Two!", options);
        Assert.That(r.AdditionalProperties!["sentences"], Is.EqualTo(2));
        var extra = new TextToSpeechOptions { VoiceId = "alan", AdditionalProperties = new() { ["best_of"] = 2, ["prompt_mode"] = "fixed", ["max_duration"] = 0.2, ["seed"] = 1 } };
        var e = await Client.GetAudioAsync("Hi.", extra);
        Assert.That(Wav(e).Frames, Is.GreaterThan(0));
    }

    [Test]
    public void BadLanguagesAndOptionsAreArgumentErrors()
    {
        Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", Fast(language: "en-us")));
        var o = Fast();
        o.BestOf = 0;
        Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", o));
        o = Fast();
        o.PromptMode = "random";
        Assert.ThrowsAsync<ArgumentException>(() => Client.GetAudioAsync("Hi.", o));
    }

    [Test]
    public void PresetsNeedAVallexCheckpoint()
    {
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            Symbols = TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"),
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
        };
        options.Voices["alan"] = ValleVoice.FromPreset(TestPaths.RequireShared("vallex-presets", "alan.npz"));
        var e = Assert.Throws<ArgumentException>(() => new ValleSpeechClient(options))!;
        Assert.That(e.Message, Does.Contain("VALL-E X preset"));
    }
}
