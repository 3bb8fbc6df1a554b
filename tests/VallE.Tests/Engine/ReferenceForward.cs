using VallE.Runtime.Cpu;
using VallE.Runtime.Models;

namespace VallE.Tests.Engine;

/// <summary>
/// The AR forward pass the way upstream runs it at every step: the whole sequence <c>[text ; audio]</c> from scratch,
/// with an explicit attention mask, no cache and no batching. Slow (quadratic work per token) and written to be read
/// top to bottom. Test code, not part of the engine: KvCacheTests uses it to prove that the KV-cached
/// <see cref="ArDecoder"/> produces the same logits, WeightsDTypeTests to compare weight types teacher-forced.
/// </summary>
internal sealed class ReferenceForward(ValleWeights w, CpuBackend backend)
{
    /// <summary>
    /// Logits <c>[AudioVocab + 1]</c> for the token after <paramref name="audio"/> (BOS included when the model
    /// prepends it), given the full text.
    /// </summary>
    public float[] ArLogits(long[] text, int[]? languages, long[] audio)
    {
        int d = w.ArDecoder.Dim, S = text.Length, A = audio.Length, L = S + A;
        w.ArTextPosition.EnsureCapacity(S);
        w.ArAudioPosition.EnsureCapacity(A);

        // 1. Inputs: text and audio embedded and positioned separately, then concatenated.
        var x = new float[L * d];
        TextEncoder.Encode(backend, text, w.ArTextEmbedding, w.ArLanguageEmbedding, languages, w.ArTextPrenet, w.ArTextPosition,
            x.AsSpan(0, S * d));
        var y = x.AsSpan(S * d);
        for (int t = 0; t < A; t++) w.ArAudioEmbedding.CopyTo(audio[t], y.Slice(t * d, d));
        if (w.ArAudioPrenet is { } prenet) prenet.Apply(backend, y, A, new float[A * prenet.ScratchPerRow]);
        w.ArAudioPosition.Apply(y, 0, A);

        // 2. The mask: text sees all text and no audio; audio sees all text and the audio up to itself.
        var allowed = new bool[L, L];
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++)
                allowed[i, j] = i < S ? j < S : j <= i;

        // 3. The layers.
        foreach (var layer in w.ArDecoder.Layers)
        {
            if (layer.NormFirst)
            {
                var h = new float[L * d];
                layer.Norm1.Apply(x, h, L, 0);
                Add(x, Attention(layer, h, L, allowed));
                layer.Norm2.Apply(x, h, L, 0);
                Add(x, FeedForward(layer, h, L));
            }
            else
            {
                Add(x, Attention(layer, x, L, allowed));
                layer.Norm1.Apply(x, x, L, 0);
                Add(x, FeedForward(layer, x, L));
                layer.Norm2.Apply(x, x, L, 0);
            }
        }
        w.ArDecoder.FinalNorm?.Apply(x, x, L, 0);

        // 4. Logits of the last position.
        var logits = new float[w.ArPredictLayer.OutFeatures];
        w.ArPredictLayer.Forward(backend, x.AsSpan((L - 1) * d, d), 1, logits);
        return logits;
    }

    private float[] Attention(TransformerLayer layer, float[] h, int L, bool[,] allowed)
    {
        int d = layer.Dim, hd = layer.HeadDim;
        var qkv = new float[L * 3 * d];
        layer.InProj.Forward(backend, h, L, qkv);
        var heads = new float[L * d];
        float scale = 1f / MathF.Sqrt(hd);
        var scores = new float[L];
        for (int head = 0; head < layer.Heads; head++)
        {
            for (int i = 0; i < L; i++)
            {
                float max = float.NegativeInfinity;
                for (int j = 0; j < L; j++)
                {
                    if (!allowed[i, j]) { scores[j] = float.NegativeInfinity; continue; }
                    float s = 0;
                    for (int e = 0; e < hd; e++)
                        s += qkv[i * 3 * d + head * hd + e] * scale * qkv[j * 3 * d + d + head * hd + e];
                    scores[j] = s;
                    max = MathF.Max(max, s);
                }
                double sum = 0;
                for (int j = 0; j < L; j++) { scores[j] = allowed[i, j] ? MathF.Exp(scores[j] - max) : 0; sum += scores[j]; }
                for (int e = 0; e < hd; e++)
                {
                    double acc = 0;
                    for (int j = 0; j < L; j++) acc += scores[j] / sum * qkv[j * 3 * d + 2 * d + head * hd + e];
                    heads[i * d + head * hd + e] = (float)acc;
                }
            }
        }
        var output = new float[L * d];
        layer.OutProj.Forward(backend, heads, L, output);
        return output;
    }

    private float[] FeedForward(TransformerLayer layer, float[] h, int L)
    {
        var hidden = new float[L * layer.Linear1.OutFeatures];
        layer.Linear1.Forward(backend, h, L, hidden);
        for (int i = 0; i < hidden.Length; i++) hidden[i] = MathF.Max(hidden[i], 0);
        var output = new float[L * layer.Dim];
        layer.Linear2.Forward(backend, hidden, L, output);
        return output;
    }

    private static void Add(float[] x, float[] delta)
    {
        for (int i = 0; i < x.Length; i++) x[i] += delta[i];
    }
}
