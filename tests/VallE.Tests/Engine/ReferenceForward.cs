using VallE.Runtime.Backends;
using VallE.Runtime.Models;

namespace VallE.Tests.Engine;

/// <summary>
/// The AR forward pass the way upstream runs it at every step: the whole sequence <c>[text ; audio]</c> from scratch,
/// with an explicit attention mask in host code, no cache and no batching. Slow (quadratic work per token) and written
/// to be read top to bottom; the linear layers, norms and embeddings are the backend's operations. Test code, not
/// part of the engine: KvCacheTests uses it to prove that the KV-cached <see cref="ArDecoder"/> produces the same
/// logits, WeightsDTypeTests to compare weight types teacher-forced.
/// </summary>
internal sealed class ReferenceForward(ValleWeights w, IComputeBackend b)
{
    /// <summary>
    /// Logits <c>[AudioVocab + 1]</c> for the token after <paramref name="audio"/> (BOS included when the model
    /// prepends it), given the full text.
    /// </summary>
    public float[] ArLogits(long[] text, int[]? languages, long[] audio)
    {
        var dec = w.ArDecoder;
        int d = dec.Dim, S = text.Length, A = audio.Length, L = S + A;
        w.ArTextPosition.EnsureCapacity(S);
        w.ArAudioPosition.EnsureCapacity(A);
        using var x = b.Allocate(TensorType.F32, L, d);
        using var h = b.Allocate(TensorType.F32, L, d);
        using var ids = b.Allocate(TensorType.I32, L, 2);
        using var a = b.Allocate(TensorType.F32, L, Inputs.AudioPrenetWidth);
        using var c = b.Allocate(TensorType.F32, L, Inputs.AudioPrenetWidth);

        // 1. Inputs: text and audio embedded and positioned separately, then concatenated.
        var hostIds = new int[L * 2];
        for (int i = 0; i < S; i++) { hostIds[2 * i] = (int)text[i]; hostIds[2 * i + 1] = languages?[i] ?? 0; }
        for (int t = 0; t < A; t++) hostIds[2 * (S + t)] = (int)audio[t];
        b.Write(ids.All, hostIds);
        Inputs.Text(b, w.ArTextEmbedding, w.ArLanguageEmbedding, w.ArTextPrenet, w.ArTextPosition, ids.Slice(0, S), x.Slice(0, S), h);
        b.GatherSum([w.ArAudioEmbedding], ids.Slice(S, A), x.Slice(S, A));
        Inputs.AudioPrenet(b, w.ArAudioPrenet, x.Slice(S, A), a, c);
        b.AddPositions(w.ArAudioPosition, x.Slice(S, A), 0);

        // 2. The mask: text sees all text and no audio; audio sees all text and the audio up to itself.
        var allowed = new bool[L, L];
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++)
                allowed[i, j] = i < S ? j < S : j <= i;

        // 3. The layers.
        using var delta = b.Allocate(TensorType.F32, L, d);
        foreach (var layer in dec.Layers)
        {
            if (dec.NormFirst)
            {
                b.Norm(layer.Norm1, 0, x.All, h.All);
                Attention(layer, dec.Heads, h, allowed, delta);
                b.Add(x.All, delta.All);
                b.Norm(layer.Norm2, 0, x.All, h.All);
                FeedForward(layer, h, delta);
                b.Add(x.All, delta.All);
            }
            else
            {
                Attention(layer, dec.Heads, x, allowed, delta);
                b.AddNorm(layer.Norm1, 0, x.All, delta.All, x.All);
                FeedForward(layer, x, delta);
                b.AddNorm(layer.Norm2, 0, x.All, delta.All, x.All);
            }
        }
        if (dec.FinalNorm is not null) b.Norm(dec.FinalNorm, 0, x.All, x.All);

        // 4. Logits of the last position.
        using var logits = b.Allocate(TensorType.F32, 1, w.ArPredictLayer.OutFeatures);
        b.Linear(w.ArPredictLayer, x.Slice(L - 1, 1), logits.All);
        var result = new float[w.ArPredictLayer.OutFeatures];
        b.Read(logits.All, result);
        return result;
    }

    /// <summary>delta = out_proj(softmax(q·kᵀ/√hd + mask)·v), the attention computed on the host from the projected q/k/v.</summary>
    private void Attention(LayerWeights layer, int headCount, Tensor input, bool[,] allowed, Tensor delta)
    {
        int L = input.Rows, d = input.Cols, hd = d / headCount;
        using var qkvT = b.Allocate(TensorType.F32, L, 3 * d);
        b.Linear(layer.InProj, input.All, qkvT.All);
        var qkv = new float[L * 3 * d];
        b.Read(qkvT.All, qkv);
        var heads = new float[L * d];
        float scale = 1f / MathF.Sqrt(hd);
        var scores = new float[L];
        for (int head = 0; head < headCount; head++)
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
        using var headsT = b.Allocate(TensorType.F32, L, d);
        b.Write(headsT.All, heads);
        b.Linear(layer.OutProj, headsT.All, delta.All);
    }

    private void FeedForward(LayerWeights layer, Tensor input, Tensor delta)
    {
        using var hidden = b.Allocate(TensorType.F32, input.Rows, layer.Linear1.OutFeatures);
        b.Linear(layer.Linear1, input.All, hidden.All, Activation.Relu);
        b.Linear(layer.Linear2, hidden.All, delta.All);
    }
}
