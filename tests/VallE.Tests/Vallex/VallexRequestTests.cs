using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Pipeline;
using VallE.Runtime.Sampling;
using VallE.Runtime.Text.Vallex;
using VallE.Tests.Engine;
using VallE.Tests.Support;
using VallE.Tests.Text.Vallex;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Vallex;

/// <summary>
/// The model request VALL-E X synthesis builds, against upstream's <c>generate_audio</c> (Plachtaa/VALL-E-X
/// <c>utils/generation.py</c>): <c>text_tokens = cat([preset text_tokens, tokenize(f"_{text}")])</c> (the collater
/// adds no bos/eos), <c>enroll_x_lens = preset S</c>, <c>prompt_language = code2lang[lang_code]</c> on the first
/// S positions and <c>text_language = langs</c> (one per text token) on the rest, with the model's own
/// language numbering (en 0, zh 1, ja 2), not the tokenizer's (zh 0, ja 1, en 2).
/// </summary>
public class VallexRequestTests
{
    private static string Preset(string name) => TestPaths.RequireShared("vallex-presets", name + ".npz");

    [Test]
    public void PresetsReadAsUpstreamWritesThem()
    {
        foreach (string name in new[] { "alan", "acou_1", "cafe" })
        {
            var raw = Npy.ReadNpz(Preset(name));
            var p = VallexPrompt.LoadPreset(Preset(name));
            long[] audio = raw["audio_tokens"].ToInt64(), text = raw["text_tokens"].ToInt64();
            Assert.That(raw["audio_tokens"].Shape, Is.EqualTo(new long[] { 1, p.Codes.Frames, 8 }), name);
            Assert.That(p.Codes.Span.ToArray(), Is.EqualTo(audio), name);
            Assert.That(p.TextTokens, Is.EqualTo(text), name);
            Assert.That(p.Language, Is.EqualTo(VallexTextFrontEnd.LanguageOfCode((int)raw["lang_code"].ToInt64()[0])), name);
            // EnCodec codes and bpe_69 ids: inside every VALL-E X model's vocabularies.
            Assert.That(audio.All(c => c is >= 0 and < 1024), name);
            Assert.That(text.All(c => c is >= 0 and < 70), name);
        }
    }

    [Test]
    public void RequestIsUpstreamsGenerateAudioInput()
    {
        var fixture = Fixture.Get("vallex-tiny");
        var raw = Npy.ReadNpz(Preset("alan"));
        long[] presetTokens = raw["text_tokens"].ToInt64();
        int presetCode = (int)raw["lang_code"].ToInt64()[0];
        string[] code2lang = ["zh", "ja", "en"];
        var record = VallexFixtureTests.Load("vallex-en.json", "en")[0];

        var prompt = VallexPrompt.LoadPreset(Preset("alan"));
        var request = Synthesizer.VallexRequest(prompt, VallexTextFrontEnd.Tokenize(record.Text, "en"));

        long[] expectedTokens = [.. presetTokens, .. record.TokenIds.Select(i => (long)i)];
        Assert.That(request.TextTokens, Is.EqualTo(expectedTokens));
        Assert.That(request.EnrollTokens, Is.EqualTo(presetTokens.Length));
        Assert.That(request.PromptCodes.Span.ToArray(), Is.EqualTo(raw["audio_tokens"].ToInt64()));
        Assert.That(request.PromptLanguage, Is.EqualTo(code2lang[presetCode]));

        // The language ids the model adds: language_ID[prompt_language] on :enroll, language_ID[langs[i]] after.
        var languageId = new Dictionary<string, int> { ["en"] = 0, ["zh"] = 1, ["ja"] = 2 };
        int[] expectedLanguages =
        [
            .. Enumerable.Repeat(languageId[code2lang[presetCode]], presetTokens.Length),
            .. record.LanguageIds.Select(code => languageId[code2lang[code]]),
        ];
        Assert.That(RequestValidation.LanguageIds(fixture.Checkpoint.Config, request, request.TextTokens.Length), Is.EqualTo(expectedLanguages));
        Assert.DoesNotThrow(() => RequestValidation.Validate(fixture.Checkpoint.Config, request, 0));
    }

    [Test]
    public void MixedTextKeepsItsPerTokenLanguagesAndNoPromptUsesTheTextsLanguage()
    {
        var tokens = VallexTextFrontEnd.Tokenize("[EN]Hi.[EN][ZH]你好。[ZH]", "mix");
        var request = Synthesizer.VallexRequest(VallexPrompt.None("mix"), tokens);
        Assert.That(request.EnrollTokens, Is.Zero);
        Assert.That(request.PromptCodes.Frames, Is.Zero);
        Assert.That(request.PromptLanguage, Is.EqualTo("en"));   // upstream: lang_pr = 'en' for mix without a prompt
        Assert.That(request.TextLanguages!.Distinct(), Is.EqualTo(new[] { "en", "zh" }));
        Assert.That(VallexPrompt.None("zh").Language, Is.EqualTo("zh"));
    }

    [Test]
    public void TranscriptPromptsAreTokenizedAsMakePrompt()
    {
        var codes = new AudioCodes(new long[8 * 3], 3);
        var p = VallexPrompt.FromTranscript(codes, "Hello there.", "auto");
        Assert.That(p.Language, Is.EqualTo("en"));
        // make_prompt: tokenize(f"[EN]{transcript}[EN]".strip()): no leading "_", unlike the text to speak.
        Assert.That(p.TextTokens, Is.EqualTo(VallexTextFrontEnd.TokenizePrompt("Hello there.", "en").TokenIds.Select(i => (long)i)));
        Assert.That(VallexPrompt.FromTranscript(codes, "你好。", "auto").Language, Is.EqualTo("zh"));
        var e = Assert.Throws<InvalidInputException>(() => VallexPrompt.FromTranscript(codes, "  ", "en"))!;
        Assert.That(e.Message, Does.Contain("transcript"));
        Assert.Throws<InvalidInputException>(() => VallexPrompt.FromTranscript(codes, "Hi.", "fr"));
    }

    [Test]
    public void BadPresetsAreClearErrors()
    {
        using var dir = TestPaths.CreateTempDir();
        string notZip = dir.File("x.npz");
        File.WriteAllText(notZip, "nope");
        Assert.Throws<InvalidInputException>(() => VallexPrompt.LoadPreset(notZip));
        var e = Assert.Throws<InvalidInputException>(() => VallexPrompt.LoadPreset(TestPaths.RequireShared("valle", "vallex-tiny", "prompt_codes.npy")))!;
        Assert.That(e.Message, Does.Contain("prompt_codes.npy"));
    }

    [Test]
    public void BestOfKeepsTheCandidateWithTheHighestMeanLogProbability()
    {
        var fixture = Fixture.Get("vallex-tiny");
        var model = fixture.Model;
        var prompt = VallexPrompt.LoadPreset(Preset("alan"));
        var sampling = new SamplingOptions { Seed = 11, TopK = 50, Temperature = 0.9f };
        var request = Synthesizer.VallexRequest(prompt, VallexTextFrontEnd.Tokenize("Hi.", "en"), sampling, maxFrames: 40);

        var observer = new LogitRecorder();
        var result = model.GenerateBestOf(request, 3, observer);
        Assert.That(result.CandidateScores, Has.Count.EqualTo(3));
        int best = result.BestCandidate!.Value;
        Assert.That(result.CandidateScores![best], Is.EqualTo(result.CandidateScores.Max()));
        Assert.That(result.ArMeanLogProbability, Is.EqualTo(result.CandidateScores[best]));

        // The kept candidate is what a single run with its seed produces (same AR tokens, NAR on them).
        var single = model.Generate(request with { Sampling = sampling with { Seed = 11 + (ulong)best } });
        Assert.That(result.Codes.Span.ToArray(), Is.EqualTo(single.Codes.Span.ToArray()));
        Assert.That(result.StopReason, Is.EqualTo(single.StopReason));

        // The score from the logits: log_softmax of the temperature-scaled, top-k-filtered logits at each sampled
        // token, summed over the appended tokens (and EOS when it ended the sequence), over len(BOS + prompt + generated).
        long[] first = result.Codes.Codebook(0);
        double sum = 0;
        for (int step = 0; step < first.Length; step++) sum += LogSoftmaxFiltered(observer.Logits[(best, step)], (int)first[step], 50, 0.9f);
        if (result.StopReason == "eos") sum += LogSoftmaxFiltered(observer.Logits[(best, first.Length)], 1024, 50, 0.9f);
        else Assert.That(result.StopReason, Is.EqualTo("max-frames"));
        if (result.StopReason == "eos")
        {
            Assert.That(result.ArLogProbability!.Value, Is.EqualTo(sum).Within(1e-3));
            Assert.That(result.ArMeanLogProbability!.Value, Is.EqualTo(sum / (1 + prompt.Codes.Frames + first.Length)).Within(1e-5));
        }
        else
        {
            // The step that hit the budget sampled a token we do not see; it is counted too (upstream counts it).
            Assert.That(result.ArLogProbability!.Value, Is.LessThan(sum + 1e-3));
        }
    }

    [Test]
    public void BestOfOneGreedyIsThePlainRun()
    {
        var fixture = Fixture.Get("vallex-tiny");
        var request = fixture.Request() with { MaxFrames = 20 };
        var plain = fixture.Model.Generate(request);
        var best = fixture.Model.GenerateBestOf(request, 2);
        Assert.That(best.Codes.Span.ToArray(), Is.EqualTo(plain.Codes.Span.ToArray()));
        Assert.That(best.CandidateScores![0], Is.EqualTo(best.CandidateScores[1]));
        Assert.That(best.BestCandidate, Is.Zero);
        Assert.That(best.ArLogProbability!.Value, Is.LessThanOrEqualTo(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Model.GenerateBestOf(request, 0));
    }

    private static double LogSoftmaxFiltered(float[] logits, int token, int topK, float temperature)
    {
        var l = logits.Select(v => v / temperature).ToArray();
        float kth = l.OrderByDescending(v => v).ElementAt(topK - 1);
        double max = l.Max();
        double sum = l.Where(v => v >= kth).Sum(v => Math.Exp(v - max));
        Assert.That(l[token], Is.GreaterThanOrEqualTo(kth), "the sampled token survived the filter");
        return l[token] - max - Math.Log(sum);
    }

    private sealed class LogitRecorder : IInferenceObserver
    {
        public readonly Dictionary<(int Sequence, int Step), float[]> Logits = new();
        public void OnArLogits(int sequence, int step, ReadOnlySpan<float> logits) => Logits[(sequence, step)] = logits.ToArray();
        public void OnNarLogits(int sequence, int stage, int frames, ReadOnlySpan<float> logits) { }
    }
}
