using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;
using VallE.Weights;
using static VallE.Tests.Cuda.CudaTestSupport;

namespace VallE.Tests.Cuda;

/// <summary>The GPU NAR stages against upstream's NAR loop in float64 (GPU only).</summary>
[TestFixture]
public class CudaNarModelTests
{
    private const int Layers = 2, Dim = 32, Heads = 2, TextVocab = 12, AudioVocab = 1024, Books = 8;

    private static ModelConfig Config(int prefixMode) => new()
    {
        Family = ModelFamily.Valle,
        DModel = Dim, NHead = Heads, NumLayers = Layers,
        NarDModel = Dim, NarNHead = Heads, NarNumLayers = Layers,
        NormFirst = true, TextVocab = TextVocab, AudioVocab = AudioVocab, PrefixMode = prefixMode,
    };

    private static Dictionary<string, float[]> Weights(ModelConfig c)
    {
        var w = CudaDecoderStackTests.RandomWeights(Layers, Dim, c.NarFeedForwardDim, ada: true, seed: 600, prefix: "nar_decoder");
        w["nar_text_embedding.word_embeddings.weight"] = Random(TextVocab * Dim, 610);
        for (int j = 0; j < Books; j++)
            w[$"nar_audio_embeddings.{j}.word_embeddings.weight"] = Random((AudioVocab + (j == 0 ? 1 : 0)) * Dim, 620 + j);
        for (int j = 0; j < Books - 1; j++)
        {
            w[$"nar_predict_layers.{j}.weight"] = Random(AudioVocab * Dim, 640 + j, 0.5f);
            w[$"nar_stage_embeddings.{j}.word_embeddings.weight"] = Random(Dim, 660 + j);
        }
        w["nar_text_position.alpha"] = [0.9f];
        w["nar_audio_position.alpha"] = [1.2f];
        return w;
    }

    /// <summary>Upstream's NAR loop in float64; also the smallest top-2 logit gap seen per stage.</summary>
    private static (int[] Codes, double[] MinGap) Reference(ModelConfig c, Dictionary<string, float[]> w, int[] text, int[] prompt, int[] first)
    {
        float[] freq = InverseFrequencies(Dim);
        int s = text.Length, t = prompt.Length / Books, g = first.Length, rows = s + t + g;
        float[][] stages = Enumerable.Range(0, Books - 1).Select(j => w[$"nar_stage_embeddings.{j}.word_embeddings.weight"]).ToArray();
        var codes = new int[g * Books];
        for (int i = 0; i < g; i++) codes[i * Books] = first[i];
        var gaps = new double[Books - 1];
        float Emb(int book, int code, int k) => w[$"nar_audio_embeddings.{book}.word_embeddings.weight"][code * Dim + k];
        for (int stage = 0; stage < Books - 1; stage++)
        {
            var x = new float[rows * Dim];
            for (int r = 0; r < s; r++)
                for (int k = 0; k < Dim; k++) x[r * Dim + k] = w["nar_text_embedding.word_embeddings.weight"][text[r] * Dim + k] + 0.9f * SinePe(r, k, freq);
            int promptBooks = c.PrefixMode == 0 ? stage + 1 : Books;
            for (int r = 0; r < t + g; r++)
                for (int k = 0; k < Dim; k++)
                {
                    float acc = 0;
                    if (r < t) for (int b = 0; b < promptBooks; b++) acc += Emb(b, prompt[r * Books + b], k);
                    else for (int b = 0; b <= stage; b++) acc += Emb(b, codes[(r - t) * Books + b], k);
                    x[(s + r) * Dim + k] = acc + 1.2f * SinePe(r, k, freq);
                }
            float[] o = CudaDecoderStackTests.Reference(w, Layers, Dim, Heads, c.NarFeedForwardDim, true, stages, stage, x, rows, 0, false, "nar_decoder");
            gaps[stage] = double.PositiveInfinity;
            for (int i = 0; i < g; i++)
            {
                double[] logits = CudaDecoderStackTests.Linear(w, $"nar_predict_layers.{stage}.weight",
                    o.AsSpan((s + t + i) * Dim, Dim).ToArray().Select(v => (double)v).ToArray(), 1, Dim, AudioVocab, null);
                var order = Enumerable.Range(0, AudioVocab).OrderByDescending(k => logits[k]).ToArray();
                gaps[stage] = Math.Min(gaps[stage], logits[order[0]] - logits[order[1]]);
                codes[i * Books + stage + 1] = order[0];
            }
        }
        return (codes, gaps);
    }

    [TestCase(0)]
    [TestCase(1)]
    public void Stages_MatchUpstreamLoop(int prefixMode)
    {
        var d = RequireDevice();
        var c = Config(prefixMode);
        var w = Weights(c);
        using var model = new CudaNarModel(d, c, new DictionaryWeightSource(w), capacity: 64);
        int[] text = [1, 5, 9, 2];
        int[] prompt = RandomInts(6 * Books, 670, AudioVocab);
        int[] first = RandomInts(11, 671, AudioVocab);
        int[] got = model.Generate(text, prompt, first);
        var (expected, gaps) = Reference(c, w, text, prompt, first);
        // Stages after a near tie may legitimately differ (fp32 vs float64); compare up to the first one.
        int stages = Array.FindIndex(gaps, g => g < 1e-3);
        int compare = stages < 0 ? Books : stages + 1;
        for (int i = 0; i < first.Length; i++)
            Assert.That(got.AsSpan(i * Books, compare).ToArray(), Is.EqualTo(expected.AsSpan(i * Books, compare).ToArray()), $"frame {i}");
    }

    [Test]
    public void Supports_RefusesEnrolledPrefixModes()
    {
        Assert.That(CudaNarModel.Supports(Config(2), out string why), Is.False);
        Assert.That(why, Does.Contain("prefix_mode 2"));
        Assert.That(CudaNarModel.Supports(Config(0), out _), Is.True);
    }
}
