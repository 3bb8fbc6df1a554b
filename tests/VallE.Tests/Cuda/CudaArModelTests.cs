using VallE.Weights;
using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;
using VallE.Runtime.Sampling;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>The GPU AR loop (prefill + graph-replayed steps) against upstream's recompute-everything loop in float64.</summary>
[TestFixture]
public class CudaArModelTests
{
    private const int Layers = 2, Dim = 64, Heads = 4, TextVocab = 20, AudioVocab = 1024;

    private static ModelConfig Config(bool prependBos) => new()
    {
        Family = ModelFamily.Valle,
        DModel = Dim,
        NHead = Heads,
        NumLayers = Layers,
        NarDModel = Dim,
        NarNHead = Heads,
        NarNumLayers = Layers,
        NormFirst = true,
        TextVocab = TextVocab,
        AudioVocab = AudioVocab,
        PrependBos = prependBos,
    };

    private static Dictionary<string, float[]> Weights(ModelConfig c)
    {
        var w = CudaDecoderStackTests.RandomWeights(Layers, Dim, c.FeedForwardDim, ada: false, seed: 500, prefix: "ar_decoder");
        w["ar_text_embedding.word_embeddings.weight"] = Random(TextVocab * Dim, 510);
        w["ar_audio_embedding.word_embeddings.weight"] = Random((AudioVocab + 1 + (c.PrependBos ? 1 : 0)) * Dim, 511);
        w["ar_predict_layer.weight"] = Random((AudioVocab + 1) * Dim, 512, 0.5f);
        w["ar_text_position.alpha"] = [0.8f];
        w["ar_audio_position.alpha"] = [1.1f];
        return w;
    }

    /// <summary>
    /// Upstream's greedy loop, recomputing the whole sequence every step. Returns the tokens and, per step, the gap
    /// between the two largest logits (a near tie may legitimately flip between fp32 and float64).
    /// </summary>
    private static (List<int> Tokens, List<double> Gaps, CudaArStop Stop) ReferenceGreedy(ModelConfig c, Dictionary<string, float[]> w, int[] text, int[] prompt)
    {
        float[] freq = InverseFrequencies(Dim);
        var y = new List<int>();
        if (c.PrependBos) y.Add(c.BosToken);
        y.AddRange(prompt);
        var tokens = new List<int>();
        var gaps = new List<double>();
        while (true)
        {
            int rows = text.Length + y.Count;
            var x = new float[rows * Dim];
            for (int t = 0; t < text.Length; t++)
                for (int k = 0; k < Dim; k++)
                    x[t * Dim + k] = w["ar_text_embedding.word_embeddings.weight"][text[t] * Dim + k] + 0.8f * SinePe(t, k, freq);
            for (int t = 0; t < y.Count; t++)
                for (int k = 0; k < Dim; k++)
                    x[(text.Length + t) * Dim + k] = w["ar_audio_embedding.word_embeddings.weight"][y[t] * Dim + k] + 1.1f * SinePe(t, k, freq);
            float[] o = CudaDecoderStackTests.Reference(w, Layers, Dim, Heads, c.FeedForwardDim, true, null, 0, x, rows, text.Length, true, "ar_decoder");
            double[] logits = CudaDecoderStackTests.Linear(w, "ar_predict_layer.weight",
                o.AsSpan((rows - 1) * Dim, Dim).ToArray().Select(v => (double)v).ToArray(), 1, Dim, AudioVocab + 1, null);
            var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ToArray();
            gaps.Add(logits[order[0]] - logits[order[1]]);
            int argmax = order[0];
            // Upstream: y carries the BOS, prompts do not, so y_len - prompt_len counts it.
            if (argmax == c.EosToken) return (tokens, gaps, CudaArStop.ArgMaxEos);
            if (y.Count - prompt.Length > text.Length * 16) return (tokens, gaps, CudaArStop.LengthLimit);
            y.Add(argmax);
            tokens.Add(argmax);
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void GreedyGeneration_MatchesUpstreamLoop(bool prependBos)
    {
        var d = RequireDevice();
        var c = Config(prependBos);
        var w = Weights(c);
        using var model = new CudaArModel(d, c, new DictionaryWeightSource(w), capacity: 128);
        int[] text = [1, 7, 3];
        int[] prompt = [5, 900, 17, 17, 301];
        var (tokens, stop) = model.Generate(text, prompt, new SamplingOptions { TopK = 1 }, seed: 0);
        var (expected, gaps, expectedStop) = ReferenceGreedy(c, w, text, prompt);
        // Compare up to the first near tie of the reference (beyond it the sequences may diverge legitimately).
        int comparable = gaps.FindIndex(g => g < 1e-3);
        int n = comparable < 0 ? expected.Count : Math.Min(comparable, expected.Count);
        Assert.That(tokens.Take(n), Is.EqualTo(expected.Take(n)), $"first {n} tokens");
        if (comparable < 0)
        {
            Assert.That(tokens, Is.EqualTo(expected));
            Assert.That(stop, Is.EqualTo(expectedStop));
        }
        // The graph is reused: a second call gives the same result.
        Assert.That(model.Generate(text, prompt, new SamplingOptions { TopK = 1 }, seed: 0).Tokens, Is.EqualTo(tokens));
    }

    [Test]
    public void Sampling_IsDeterministicPerSeed()
    {
        var d = RequireDevice();
        var c = Config(false);
        using var model = new CudaArModel(d, c, new DictionaryWeightSource(Weights(c)), capacity: 128);
        var options = new SamplingOptions { TopK = 10, Temperature = 1.2f };
        int[] text = [2, 4, 6, 8];
        int[] prompt = [1, 2, 3];
        var a = model.Generate(text, prompt, options, seed: 11).Tokens;
        var b = model.Generate(text, prompt, options, seed: 11).Tokens;
        var other = model.Generate(text, prompt, options, seed: 12).Tokens;
        Assert.That(b, Is.EqualTo(a));
        Assert.That(other, Is.Not.EqualTo(a));
    }

    [Test]
    public void Rejects_OutOfRangeTokens_AndUnsupportedConfigs()
    {
        Assert.That(CudaArModel.Supports(Config(false) with { Family = ModelFamily.VallEX }, out string why), Is.False);
        Assert.That(why, Does.Contain("VALL-E"));
        Assert.That(CudaArModel.Supports(Config(false) with { AddPrenet = true }, out _), Is.False);
        var d = RequireDevice();
        var c = Config(false);
        using var model = new CudaArModel(d, c, new DictionaryWeightSource(Weights(c)), capacity: 64);
        Assert.Throws<InvalidInputException>(() => model.Generate([TextVocab], [1], new SamplingOptions(), 0));
        Assert.Throws<InvalidInputException>(() => model.Generate([1], [AudioVocab], new SamplingOptions(), 0));
    }
}
