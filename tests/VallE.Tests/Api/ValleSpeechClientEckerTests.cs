using Microsoft.Extensions.AI;
using VallE.Runtime.Audio;
using VallE.Runtime.Models.Ecker;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using static VallE.Tests.Ecker.EckerTestAssets;

namespace VallE.Tests.Api;

#pragma warning disable MEAI001 // ITextToSpeechClient is experimental in Microsoft.Extensions.AI 11.

/// <summary>
/// <see cref="ValleSpeechClient"/> as an <see cref="ITextToSpeechClient"/> over e-c-k-e-r/vall-e checkpoints: our test
/// tokenizer, voices of prompt codes alone (and one with a transcript, which ecker ignores), the ecker options as typed
/// properties and as AdditionalProperties keys, and the refusals. Noise audio (random weights).
/// </summary>
[NonParallelizable]
public class ValleSpeechClientEckerTests
{
    private ValleSpeechClient? _arNar, _narLen;

    private static ValleSpeechClientOptions Options(string fixture)
    {
        RequireEspeak();
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = Fixture(fixture, "fp32.sft"),
            Tokenizer = TestTokenizer,
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
            Threads = 1,
        };
        options.Voices["codes"] = ValleVoice.FromCodes(Fixture(fixture, "prompt_codes.npy"));
        options.Voices["transcribed"] = ValleVoice.FromCodes(Fixture(fixture, "prompt_codes.npy"), "Go to her.");
        return options;
    }

    private ITextToSpeechClient ArNar => _arNar ??= new ValleSpeechClient(Options("arnar_d64"));
    private ITextToSpeechClient NarLen => _narLen ??= new ValleSpeechClient(Options("narlen_d96"));

    [OneTimeTearDown]
    public void TearDown()
    {
        _arNar?.Dispose();
        _narLen?.Dispose();
    }

    private static byte[] Bytes(TextToSpeechResponse r) => r.Contents.OfType<DataContent>().Single().Data.ToArray();

    private static WavAudio Wav(TextToSpeechResponse r) => WavReader.Parse(Bytes(r));

    [Test]
    public async Task SpeaksWithAVoiceOfCodesAlone()
    {
        var options = new ValleSpeechOptions { VoiceId = "codes", Temperature = 0, Language = "en" };
        var r = await ArNar.GetAudioAsync("Hello there.", options);
        Assert.That(Wav(r).Format.SampleRate, Is.EqualTo(24000));
        Assert.That(Wav(r).Frames, Is.GreaterThan(0));
        Assert.That(r.AdditionalProperties!["device"], Is.EqualTo("cpu"));
        Assert.That(r.AdditionalProperties!["stop_reason"], Is.AnyOf("eos", "length"));

        // The transcript is not part of an ecker prompt: the same codes give the same audio with or without one.
        var transcribed = await ArNar.GetAudioAsync("Hello there.", new ValleSpeechOptions { VoiceId = "transcribed", Temperature = 0 });
        Assert.That(Bytes(transcribed), Is.EqualTo(Bytes(r)));
        Assert.That(((ValleSpeechClient)ArNar).GetService(typeof(EckerModel)), Is.Not.Null);
    }

    [Test]
    public async Task StreamsOneUpdatePerSentence()
    {
        var updates = new List<TextToSpeechResponseUpdate>();
        await foreach (var u in ArNar.GetStreamingAudioAsync("Hello there. How are you?", new ValleSpeechOptions { VoiceId = "codes", Temperature = 0 }))
            updates.Add(u);
        Assert.That(updates, Has.Count.EqualTo(2));
        Assert.That(updates.Select(u => u.AdditionalProperties!["sentence"]), Is.EqualTo(new object[] { 0, 1 }), "0-based sentence numbers");
    }

    [Test]
    public async Task NarLenOptionsAsPropertiesAndAsKeys()
    {
        var typed = new ValleSpeechOptions { VoiceId = "codes", Language = "de", Mode = "nar-len", Length = 12, DemaskSteps = 3, CfgStrength = 3f, CfgRescale = 0.5f, Temperature = 0 };
        var a = await NarLen.GetAudioAsync("Guten Tag.", typed);
        Assert.That(Wav(a).Frames, Is.EqualTo(12 * 320));
        Assert.That(a.AdditionalProperties!["stop_reason"], Is.EqualTo("nar-len"));

        var keys = new TextToSpeechOptions
        {
            VoiceId = "codes", Language = "de",
            AdditionalProperties = new() { ["mode"] = "nar-len", ["length"] = 12, ["demask_steps"] = 3, ["cfg_strength"] = 3.0, ["cfg_rescale"] = 0.5, ["temperature"] = 0 },
        };
        var b = await NarLen.GetAudioAsync("Guten Tag.", keys);
        Assert.That(Bytes(b), Is.EqualTo(Bytes(a)));
    }

    /// <summary>
    /// The sampler options only ecker has, as typed properties and as AdditionalProperties keys, reach the sampler: a
    /// seeded sampled run with one differs from the same run without it, and both forms give the same audio. The base
    /// run samples both stages (the min temperatures act on a sampled stage only) with a repetition penalty (the decay
    /// only reshapes one), on narlen_d96 in its default mode (ar+nar: the length penalty is the AR's).
    /// </summary>
    [TestCase(nameof(ValleSpeechOptions.MinArTemperature), "min_ar_temperature", 0.1)]
    [TestCase(nameof(ValleSpeechOptions.MinNarTemperature), "min_nar_temperature", 0.1)]
    [TestCase(nameof(ValleSpeechOptions.RepetitionPenaltyDecay), "repetition_penalty_decay", 1.0)]
    [TestCase(nameof(ValleSpeechOptions.LengthPenalty), "length_penalty", 4.0)]
    public async Task SamplerOptionsAsPropertiesAndAsKeysReachTheSampler(string property, string key, double value)
    {
        ValleSpeechOptions Sampled() => new()
        {
            VoiceId = "codes", Temperature = 1, NarTemperature = 1, RepetitionPenalty = 1.5f, Seed = 11, MaxDuration = 0.5,
        };
        var without = Bytes(await NarLen.GetAudioAsync("Hello there.", Sampled()));

        var typed = Sampled();
        typeof(ValleSpeechOptions).GetProperty(property)!.SetValue(typed, (float)value);
        var a = Bytes(await NarLen.GetAudioAsync("Hello there.", typed));
        Assert.That(a.AsSpan().SequenceEqual(without), Is.False, $"{property} {value} changes nothing");

        var keyed = Sampled();
        keyed.AdditionalProperties = new() { [key] = value };
        Assert.That(Bytes(await NarLen.GetAudioAsync("Hello there.", keyed)).AsSpan().SequenceEqual(a), Is.True, $"{key} is not {property}");
    }

    [Test]
    public void BadSamplerOptionsAreArgumentErrorsNamingTheProperty()
    {
        foreach (var (options, property) in new (TextToSpeechOptions, string)[]
                 {
                     (new ValleSpeechOptions { MinArTemperature = -0.5f }, "MinArTemperature"),
                     (new TextToSpeechOptions { AdditionalProperties = new() { ["min_nar_temperature"] = -1 } }, "MinNarTemperature"),
                     (new ValleSpeechOptions { RepetitionPenaltyDecay = float.NaN }, "RepetitionPenaltyDecay"),
                     (new ValleSpeechOptions { LengthPenalty = float.PositiveInfinity }, "LengthPenalty"),
                 })
        {
            options.VoiceId = "codes";
            Assert.That(() => ArNar.GetAudioAsync("Hi.", options),
                Throws.InstanceOf<ArgumentException>().With.Property("ParamName").EqualTo(property).And.Message.StartsWith(property), property);
        }
        // Upstream's NAR-len has no repetition penalty to decay and no AR stop token to penalise.
        foreach (var (options, property) in new (ValleSpeechOptions, string)[]
                 {
                     (new ValleSpeechOptions { Mode = "nar-len", RepetitionPenaltyDecay = 0.5f }, "RepetitionPenaltyDecay"),
                     (new ValleSpeechOptions { Mode = "nar-len", LengthPenalty = 1f }, "LengthPenalty"),
                 })
        {
            options.VoiceId = "codes";
            Assert.That(() => NarLen.GetAudioAsync("Hi.", options), Throws.ArgumentException.With.Property("ParamName").EqualTo(property), property);
        }
        // A malformed key value names the key.
        Assert.That(() => ArNar.GetAudioAsync("Hi.", new TextToSpeechOptions { VoiceId = "codes", AdditionalProperties = new() { ["length_penalty"] = "long" } }),
            Throws.ArgumentException.With.Message.Contains("length_penalty"));
    }

    /// <summary>Cancelled from the first progress report (an AR step of the ecker model): the call stops with it.</summary>
    [Test]
    public async Task CancellationStopsTheEckerModel()
    {
        using var cts = new CancellationTokenSource();
        var progress = new CancelOnFirstReport(cts);
        var options = new ValleSpeechOptions { VoiceId = "codes", Temperature = 0, Progress = progress };
        Assert.That(() => ArNar.GetAudioAsync("Hello there. How are you?", options, cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(progress.Reports, Is.EqualTo(1), "no step after the one that cancelled");
        // The client is still usable.
        var r = await ArNar.GetAudioAsync("Hello there.", new ValleSpeechOptions { VoiceId = "codes", Temperature = 0 });
        Assert.That(Wav(r).Frames, Is.GreaterThan(0));
    }

    private sealed class CancelOnFirstReport(CancellationTokenSource cts) : IProgress<ValleProgress>
    {
        public int Reports { get; private set; }

        public void Report(ValleProgress value)
        {
            Reports++;
            cts.Cancel();
        }
    }

    [Test]
    public void BadOptionsAreArgumentErrors()
    {
        Assert.That(() => ArNar.GetAudioAsync("Hi.", new ValleSpeechOptions { VoiceId = "codes", Language = "xx" }),
            Throws.ArgumentException.With.Message.Contains("Language 'xx'"));
        Assert.That(() => ArNar.GetAudioAsync("Hi.", new ValleSpeechOptions { VoiceId = "codes", Mode = "nar-len" }),
            Throws.ArgumentException.With.Message.Contains("no len task"));
        Assert.That(() => ArNar.GetAudioAsync("Hi.", new ValleSpeechOptions { VoiceId = "codes", Length = 5 }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("Length"));
        Assert.That(() => NarLen.GetAudioAsync("Hi.", new ValleSpeechOptions { VoiceId = "codes", Mode = "nar-len", CfgRescale = 2 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => ArNar.GetAudioAsync("Hi.", new ValleSpeechOptions { VoiceId = "codes", BestOf = 2 }), Throws.ArgumentException);
        // A language the model has no row for (zh is id 4; the fixture has 4 languages) is an input error.
        Assert.That(() => ArNar.GetAudioAsync("Hi.", new ValleSpeechOptions { VoiceId = "codes", Language = "zh" }),
            Throws.InstanceOf<InvalidInputException>().With.Message.Contains("4 languages"));
    }

    [Test]
    public void LoadingRefusals()
    {
        RequireEspeak();
        var presetVoice = Options("arnar_d64");
        presetVoice.Voices["alan"] = ValleVoice.FromPreset(TestPaths.RequireShared("vallex-presets", "alan.npz"));
        Assert.That(() => new ValleSpeechClient(presetVoice), Throws.ArgumentException.With.Message.Contains("VALL-E X preset"));

        // Voices without a transcript are for ecker only; the tokenizer too.
        var valle = new ValleSpeechClientOptions
        {
            Checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
            Symbols = TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"),
            CodecDecoder = EncodecTestModels.Decoder,
            Device = "cpu",
        };
        valle.Voices["codes"] = ValleVoice.FromCodes(TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy"));
        Assert.That(() => new ValleSpeechClient(valle), Throws.ArgumentException.With.Message.Contains("has no transcript"));
        valle.Voices["codes"] = ValleVoice.FromCodes(TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy"), "Go to her.");
        valle.Tokenizer = TestTokenizer;
        Assert.That(() => new ValleSpeechClient(valle), Throws.ArgumentException.With.Message.Contains("Tokenizer"));

        var badLanguage = Options("arnar_d64");
        badLanguage.Language = "es";
        Assert.That(() => new ValleSpeechClient(badLanguage), Throws.ArgumentException);
    }

    [Test]
    public void AMissingTokenizerIsAnArgumentError()
    {
        RequireNoTokenizerVariable();
        var options = Options("arnar_d64");
        options.Tokenizer = null;
        Assert.That(() => new ValleSpeechClient(options),
            Throws.ArgumentException.With.Message.Contains("Tokenizer is required").And.Message.Contains("VALLE_ECKER_TOKENIZER"));
    }
}
