using BenchmarkDotNet.Attributes;
using VallE.Runtime.Text;
using VallE.Runtime.Text.Espeak;

namespace VallE.Bench.Text;

/// <summary>
/// The "text" share of synthesis time: phonemizing a paragraph (~620 characters, 8 sentences) with
/// libespeak-ng and lifeiteng's post-processing, against espeak-ng alone on the same clauses (the floor), plus
/// tokenizing prompt + text as <c>valle synth</c> does and splitting the paragraph into sentences.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*PhonemizeBenchmark*'</c>.
/// </summary>
[MemoryDiagnoser]
public class PhonemizeBenchmark
{
    private const string Paragraph =
        "To get up and running quickly just follow the steps below. Hello, world! It's 3:45 p.m., isn't it? " +
        "Neural codec language models are zero-shot text to speech synthesizers. I can't believe it's already " +
        "November; the year went by so fast! Please call Stella. Ask her to bring these things with her from " +
        "the store. Mr. and Mrs. Dursley, of number four, Privet Drive, were proud to say that they were " +
        "perfectly normal, thank you very much. \"Really?\" he asked, raising an eyebrow. It costs $19.99 — a " +
        "bargain, if you ask me.";

    private const string Prompt = "Go to her.";

    private EspeakPhonemizer _phonemizer = null!;
    private TextFrontEnd _frontEnd = null!;
    private List<string> _chunks = null!;
    private string _voice = null!;

    [GlobalSetup]
    public void Setup()
    {
        _phonemizer = new EspeakPhonemizer();
        // A symbol table holding exactly the phonemes this text needs (no external file).
        var phonemes = _phonemizer.Phonemize($"{Prompt} {Paragraph}").Distinct().Select((p, i) => $"{p} {i + 1}");
        var symbols = SymbolTable.Parse("<eps> 0\n" + string.Join('\n', phonemes), "bench");
        _frontEnd = new TextFrontEnd(_phonemizer, symbols);
        _chunks = PunctuationPreserver.Preserve(Paragraph).Chunks;
        _voice = EspeakLibrary.FindVoice(EspeakPhonemizer.DefaultLanguage)!;
    }

    /// <summary>espeak-ng's own work on the same punctuation-free chunks: what the pipeline cannot go below.</summary>
    [Benchmark(Baseline = true)]
    public string[] EspeakOnly() => EspeakLibrary.TextToPhonemes(_voice, _chunks);

    [Benchmark]
    public IReadOnlyList<string> PhonemizeParagraph() => _phonemizer.Phonemize(Paragraph);

    /// <summary>What <c>valle synth</c> does per request: prompt + text, and the prompt alone (enroll length).</summary>
    [Benchmark]
    public TextTokens TokenizePromptAndParagraph() => _frontEnd.Tokenize(Prompt, Paragraph);

    [Benchmark]
    public IReadOnlyList<string> SplitSentences() => SentenceSplitter.Split(Paragraph);
}
