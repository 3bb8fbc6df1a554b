using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Runtime.Pipeline;
using VallE.Runtime.Text.Vallex;
using VallE.Tests.Codec;
using VallE.Tests.Engine;
using VallE.Tests.Support;
using VallE.Weights;

namespace VallE.Tests.Vallex;

/// <summary>
/// VALL-E X long text as upstream's <c>generate_audio_from_long_text</c>: the requests each sentence gets in fixed
/// and sliding mode (a recording code generator stands in for the model; the codec is the random EnCodec).
/// </summary>
public class VallexSynthesizerTests
{
    private sealed class Recorder(ModelConfig config) : ICodeGenerator
    {
        public readonly List<(GenerationRequest Request, int BestOf)> Calls = [];
        public ModelConfig Config => config;
        public string Device => "cpu";

        public GenerationResult Generate(GenerationRequest request, IInferenceObserver? observer, CancellationToken cancellation = default) =>
            GenerateBestOf(request, 1, observer, cancellation);

        public GenerationResult GenerateBestOf(GenerationRequest request, int count, IInferenceObserver? observer, CancellationToken cancellation = default)
        {
            Calls.Add((request, count));
            int frames = 3 + Calls.Count;
            var data = new long[frames * 8];
            for (int i = 0; i < data.Length; i++) data[i] = (i * 7 + Calls.Count) % 1024;
            return new GenerationResult { Codes = new AudioCodes(data, frames), StopReason = "eos", ArSteps = frames + 1 };
        }

        public void Dispose() { }
    }

    private static (Synthesizer, Recorder, EncodecDecoder) Make()
    {
        var recorder = new Recorder(Fixture.Get("vallex-tiny").Checkpoint.Config);
        var decoder = EncodecDecoder.Open(EncodecTestModels.Decoder);
        return (new Synthesizer(recorder, decoder), recorder, decoder);
    }

    private static SynthesisRequest Request(VallexPrompt prompt, PromptMode mode, int bestOf = 1) => new()
    {
        PromptText = "",
        Text = "Hello there. How are you today?",
        PromptCodes = prompt.Codes,
        VallexPrompt = prompt,
        Language = "en",
        SplitSentences = true,
        PromptMode = mode,
        BestOf = bestOf,
    };

    [Test]
    public void FixedModePromptsEverySentenceWithThePreset()
    {
        var (synth, recorder, decoder) = Make();
        using var _ = decoder;
        var prompt = VallexPrompt.LoadPreset(TestPaths.RequireShared("vallex-presets", "alan.npz"));
        var pieces = synth.Run(Request(prompt, PromptMode.Fixed, bestOf: 3)).ToList();
        Assert.That(pieces, Has.Count.EqualTo(2));
        Assert.That(pieces.All(p => p.Samples.Length == p.Frames * 320));
        Assert.That(recorder.Calls.Select(c => c.BestOf), Is.EqualTo(new[] { 3, 3 }));
        string[] sentences = ["Hello there.", "How are you today?"];
        for (int i = 0; i < 2; i++)
        {
            var r = recorder.Calls[i].Request;
            var text = VallexTextFrontEnd.Tokenize(sentences[i], "en");
            Assert.That(r.TextTokens, Is.EqualTo(prompt.TextTokens.Concat(text.TokenIds.Select(t => (long)t))));
            Assert.That(r.EnrollTokens, Is.EqualTo(prompt.TextTokens.Length));
            Assert.That(r.PromptCodes, Is.SameAs(prompt.Codes));
            Assert.That(r.PromptLanguage, Is.EqualTo(prompt.Language));
        }
    }

    [Test]
    public void SlidingModePromptsEachSentenceWithThePreviousOne()
    {
        var (synth, recorder, decoder) = Make();
        using var _ = decoder;
        var prompt = VallexPrompt.LoadPreset(TestPaths.RequireShared("vallex-presets", "cafe.npz"));
        var pieces = synth.Run(Request(prompt, PromptMode.Sliding)).ToList();
        Assert.That(pieces, Has.Count.EqualTo(2));
        var first = recorder.Calls[0].Request;
        var second = recorder.Calls[1].Request;
        Assert.That(first.EnrollTokens, Is.EqualTo(prompt.TextTokens.Length));
        var text1 = VallexTextFrontEnd.Tokenize("Hello there.", "en").TokenIds.Select(t => (long)t).ToArray();
        var text2 = VallexTextFrontEnd.Tokenize("How are you today?", "en").TokenIds.Select(t => (long)t).ToArray();
        // upstream: text_prompts = text_tokens[:, enroll_x_lens:], audio_prompts = encoded_frames; lang_pr unchanged.
        Assert.That(second.TextTokens, Is.EqualTo(text1.Concat(text2)));
        Assert.That(second.EnrollTokens, Is.EqualTo(text1.Length));
        Assert.That(second.PromptCodes.Span.ToArray(), Is.EqualTo(pieces[0].Codes!.Span.ToArray()));
        Assert.That(second.PromptLanguage, Is.EqualTo(prompt.Language));
        Assert.That(prompt.Language, Is.EqualTo("ja"));   // not the text's en: the original prompt's language stays
    }

    [Test]
    public void WithoutAPromptLongTextSlides()
    {
        var (synth, recorder, decoder) = Make();
        using var _ = decoder;
        var request = new SynthesisRequest
        {
            PromptText = "",
            Text = "你好。今天天气很好！",
            PromptCodes = new AudioCodes([], 0),
            SplitSentences = true,
        };
        var pieces = synth.Run(request).ToList();
        Assert.That(pieces, Has.Count.EqualTo(2));
        Assert.That(recorder.Calls[0].Request.EnrollTokens, Is.Zero);
        Assert.That(recorder.Calls[0].Request.PromptLanguage, Is.EqualTo("zh"));   // auto: detected on the whole text
        Assert.That(recorder.Calls[1].Request.PromptCodes.Frames, Is.EqualTo(pieces[0].Frames));
    }

    [Test]
    public void LifeitengFrontEndsAreRefusedForVallexAndTheOtherWayRound()
    {
        var recorder = new Recorder(Fixture.Get("vallex-tiny").Checkpoint.Config);
        using var decoder = EncodecDecoder.Open(EncodecTestModels.Decoder);
        var lifeiteng = new Recorder(Fixture.Get("valle-tiny").Checkpoint.Config);
        Assert.Throws<InvalidInputException>(() => new Synthesizer(lifeiteng, decoder));
        var (synth, _, _) = (new Synthesizer(recorder, decoder), 0, 0);
        Assert.That(synth.IsVallEX);
        var e = Assert.Throws<InvalidInputException>(() => synth.Run(Request(VallexPrompt.None("en"), PromptMode.Fixed, bestOf: 0)).ToList())!;
        Assert.That(e.Setting, Is.EqualTo(nameof(SynthesisRequest.BestOf)));
    }
}
