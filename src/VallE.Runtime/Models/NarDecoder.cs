using VallE.Runtime.Cpu;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>What the NAR needs of one utterance: its (possibly shortened) text, the prompt and the AR's codebook 0.</summary>
/// <param name="PromptCodes">[P, NumQuantizers] frame-major.</param>
/// <param name="FirstCodebook">Codebook 0 of the frames to complete (the AR output, or the continuation).</param>
/// <param name="PositionBeforePrenet">Upstream's <c>continual</c> with prefix_mode 0 applies the audio position before the prenet.</param>
/// <param name="Languages">VALL-E X: language id per position of <paramref name="Text"/>; null for lifeiteng models.</param>
internal sealed record NarInput(long[] Text, long[,] PromptCodes, long[] FirstCodebook, int[]? Languages, bool PositionBeforePrenet = false);

/// <summary>
/// The non-autoregressive decoder: for each codebook stage 1..7, one full bidirectional pass over
/// <c>[text ; prompt frames ; generated frames]</c> with AdaLN conditioned on the stage, then argmax per frame.
/// The audio input is the running sum of the embeddings of the codebooks known so far (upstream's formula 4/5);
/// with prefix_mode != 0 the prompt frames carry all their codebooks from the first stage.
/// </summary>
internal sealed class NarDecoder
{
    private readonly ValleWeights _w;
    private readonly CpuBackend _backend;

    public NarDecoder(ValleWeights weights, CpuBackend backend)
    {
        _w = weights;
        _backend = backend;
    }

    public long[][,] Run(IReadOnlyList<NarInput> inputs, IInferenceObserver? observer, CancellationToken cancellation = default)
    {
        var c = _w.Config;
        int d = _w.NarDecoder.Dim, q8 = c.NumQuantizers, vocab = c.AudioVocab;
        int n = inputs.Count;

        int totalRows = 0, maxRows = 0, maxFrames = 0, maxAudio = 0;
        foreach (var input in inputs)
        {
            int audio = input.PromptCodes.GetLength(0) + input.FirstCodebook.Length;
            totalRows += input.Text.Length + audio;
            maxRows = Math.Max(maxRows, input.Text.Length + audio);
            maxFrames = Math.Max(maxFrames, input.FirstCodebook.Length);
            maxAudio = Math.Max(maxAudio, audio);
        }
        _w.NarAudioPosition.EnsureCapacity(maxAudio);
        _w.NarTextPosition.EnsureCapacity(inputs.Max(i => i.Text.Length));
        var ws = new Workspace(Math.Max(totalRows, 1), d, _w.NarDecoder.FeedForwardDim, Math.Max(maxRows, 1), _backend);
        var x = new float[Math.Max(totalRows, 1) * d];
        var logits = new float[Math.Max(maxFrames, 1) * vocab];
        var prenetScratch = _w.NarAudioPrenet is { } ap ? new float[maxAudio * ap.ScratchPerRow] : [];

        // Per sequence: the encoded text (constant over stages), the running audio embedding sum, its output codes.
        var texts = new float[n][];
        var audioSums = new float[n][];
        var codes = new long[n][,];
        var segments = new Segment[n];
        int row = 0;
        for (int s = 0; s < n; s++)
        {
            var input = inputs[s];
            int P = input.PromptCodes.GetLength(0), G = input.FirstCodebook.Length;
            texts[s] = new float[input.Text.Length * d];
            TextEncoder.Encode(_backend, input.Text, _w.NarTextEmbedding, _w.NarLanguageEmbedding, input.Languages,
                _w.NarTextPrenet, _w.NarTextPosition, texts[s]);

            var sum = audioSums[s] = new float[(P + G) * d];
            var emb0 = _w.NarAudioEmbeddings[0];
            for (int t = 0; t < P; t++) emb0.CopyTo(input.PromptCodes[t, 0], sum.AsSpan(t * d, d));
            for (int t = 0; t < G; t++) emb0.CopyTo(input.FirstCodebook[t], sum.AsSpan((P + t) * d, d));
            if (c.PrefixMode != 0)
                for (int j = 1; j < q8; j++)
                    for (int t = 0; t < P; t++) _w.NarAudioEmbeddings[j].AddTo(input.PromptCodes[t, j], sum.AsSpan(t * d, d));

            codes[s] = new long[G, q8];
            for (int t = 0; t < G; t++) codes[s][t, 0] = input.FirstCodebook[t];
            // The NAR keeps no history between stages: one key/value slot shared by all layers.
            var cache = new KvCache(1, input.Text.Length + P + G, d, shareOneSlot: true);
            segments[s] = new Segment(cache, row, 0, input.Text.Length + P + G, 0, Causal: false);
            row += input.Text.Length + P + G;
        }

        for (int stage = 1; stage < q8; stage++)
        {
            // Assemble [text ; position(prenet(audio sum))] for every sequence.
            for (int s = 0; s < n; s++)
            {
                var input = inputs[s];
                int S = input.Text.Length, A = audioSums[s].Length / d;
                texts[s].CopyTo(x.AsSpan(segments[s].Row * d, S * d));
                var audio = x.AsSpan((segments[s].Row + S) * d, A * d);
                audioSums[s].CopyTo(audio);
                if (input.PositionBeforePrenet)
                {
                    _w.NarAudioPosition.Apply(audio, 0, A);
                    _w.NarAudioPrenet?.Apply(_backend, audio, A, prenetScratch);
                }
                else
                {
                    _w.NarAudioPrenet?.Apply(_backend, audio, A, prenetScratch);
                    _w.NarAudioPosition.Apply(audio, 0, A);
                }
            }
            DecoderStack.Forward(_w.NarDecoder, x, row, segments, stage, ws, cancellation);

            for (int s = 0; s < n; s++)
            {
                var input = inputs[s];
                int S = input.Text.Length, P = input.PromptCodes.GetLength(0), G = input.FirstCodebook.Length;
                var l = logits.AsSpan(0, G * vocab);
                _w.NarPredictLayers[stage - 1].Forward(_backend, x.AsSpan((segments[s].Row + S + P) * d, G * d), G, l);
                observer?.OnNarLogits(s, stage, G, l);
                for (int t = 0; t < G; t++)
                    codes[s][t, stage] = Sampling.TokenSampler.ArgMax(l.Slice(t * vocab, vocab));

                if (stage == q8 - 1) continue;
                var embedding = _w.NarAudioEmbeddings[stage];
                var sum = audioSums[s];
                if (c.PrefixMode == 0)
                    for (int t = 0; t < P; t++) embedding.AddTo(input.PromptCodes[t, stage], sum.AsSpan(t * d, d));
                for (int t = 0; t < G; t++) embedding.AddTo(codes[s][t, stage], sum.AsSpan((P + t) * d, d));
            }
        }
        return codes;
    }
}
