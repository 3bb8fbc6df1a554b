using VallE.Runtime.Backends;
using VallE.Runtime.Codec;

namespace VallE.Runtime.Models;

/// <summary>What the NAR needs of one utterance: its (possibly shortened) text, the prompt and the AR's codebook 0.</summary>
/// <param name="PromptCodes">[P, NumQuantizers] frame-major.</param>
/// <param name="FirstCodebook">Codebook 0 of the frames to complete (the AR output, or the continuation).</param>
/// <param name="PositionBeforePrenet">Upstream's <c>continual</c> with prefix_mode 0 applies the audio position before the prenet.</param>
/// <param name="Languages">VALL-E X: language id per position of <paramref name="Text"/>; null for lifeiteng models.</param>
internal sealed record NarInput(long[] Text, AudioCodes PromptCodes, long[] FirstCodebook, int[]? Languages, bool PositionBeforePrenet = false);

/// <summary>
/// The non-autoregressive decoder, over backend operations: for each codebook stage 1..7, one full bidirectional
/// pass over <c>[text ; prompt frames ; generated frames]</c> with AdaLN conditioned on the stage, then argmax per
/// frame. The audio input sums the embeddings of the codebooks known so far (upstream's formula 4/5, in codebook
/// order); with prefix_mode != 0 the prompt frames carry all their codebooks from the first stage.
/// </summary>
internal sealed class NarDecoder(ValleWeights w, IComputeBackend b)
{
    public AudioCodes[] Run(IReadOnlyList<NarInput> inputs, IInferenceObserver? observer, CancellationToken cancellation = default)
    {
        var c = w.Config;
        var dec = w.NarDecoder;
        int d = dec.Dim, books = c.NumQuantizers, vocab = c.AudioVocab, n = inputs.Count;

        int totalRows = 0, maxRows = 0, maxFrames = 0, maxAudio = 0, textRows = 0, audioRows = 0, maxText = 0, promptRows = 0;
        foreach (var input in inputs)
        {
            int audio = input.PromptCodes.Frames + input.FirstCodebook.Length;
            totalRows += input.Text.Length + audio;
            maxRows = Math.Max(maxRows, input.Text.Length + audio);
            maxFrames = Math.Max(maxFrames, input.FirstCodebook.Length);
            maxAudio = Math.Max(maxAudio, audio);
            maxText = Math.Max(maxText, input.Text.Length);
            textRows += input.Text.Length;
            audioRows += audio;
            promptRows += input.PromptCodes.Frames;
        }
        w.NarAudioPosition.EnsureCapacity(maxAudio);
        w.NarTextPosition.EnsureCapacity(maxText);

        var owned = new List<IDisposable>();
        T Own<T>(T o) where T : IDisposable { owned.Add(o); return o; }
        try
        {
            var x = Own(b.Allocate(TensorType.F32, Math.Max(totalRows, 1), d));
            var texts = Own(b.Allocate(TensorType.F32, Math.Max(textRows, 1), d));        // encoded text: constant over stages
            var textIds = Own(b.Allocate(TensorType.I32, Math.Max(textRows, 1), 2));
            var codes = Own(b.Allocate(TensorType.I32, Math.Max(audioRows, 1), books));  // [prompt ; generated] codes per sequence
            // Prefix modes 1, 2, 4: the prompt frames sum all their codebooks at every stage, so that sum is made once.
            bool fixedPrompt = c.PrefixMode != 0;
            var promptSums = Own(b.Allocate(TensorType.F32, fixedPrompt ? Math.Max(promptRows, 1) : 1, d));
            var textScratch = Own(b.Allocate(TensorType.F32, w.NarTextPrenet is null ? 1 : Math.Max(maxText, 1), d));
            int prenetRows = w.NarAudioPrenet is null ? 1 : Math.Max(maxAudio, 1);
            var prenetA = Own(b.Allocate(TensorType.F32, prenetRows, Inputs.AudioPrenetWidth));
            var prenetC = Own(b.Allocate(TensorType.F32, prenetRows, Inputs.AudioPrenetWidth));
            var logits = Own(b.Allocate(TensorType.F32, Math.Max(maxFrames, 1), vocab));
            var picked = Own(b.Allocate(TensorType.I32, Math.Max(maxFrames, 1), 1));
            // The NAR keeps no history between stages: every pass covers whole sequences.
            var cache = Own(b.CreateKvCache("nar_decoder", n, dec.Layers.Length, Math.Max(maxRows, 1), d, keepsHistory: false));
            var scratch = Own(new DecoderScratch(b, Math.Max(totalRows, 1), d, dec.FeedForwardDim));

            // Per sequence: where its text and codes live, and its output codes on the host.
            var result = new long[n][];   // [G, books] frame-major per sequence
            var hostCodes = new int[n][];
            var segments = new AttentionSegment[n];
            var textRow = new int[n];
            var codeRow = new int[n];
            var promptRow = new int[n];
            var hostPicked = new int[Math.Max(maxFrames, 1)];
            var hostLogits = observer is null ? [] : new float[Math.Max(maxFrames, 1) * vocab];
            int rowAt = 0, textAt = 0, codeAt = 0, promptAt = 0;
            for (int s = 0; s < n; s++)
            {
                var input = inputs[s];
                int S = input.Text.Length, P = input.PromptCodes.Frames, G = input.FirstCodebook.Length;
                var ids = new int[S * 2];
                for (int i = 0; i < S; i++)
                {
                    ids[2 * i] = (int)input.Text[i];
                    ids[2 * i + 1] = input.Languages?[i] ?? 0;
                }
                b.Write(textIds.Slice(textAt, S), ids);
                Inputs.Text(b, w.NarTextEmbedding, w.NarLanguageEmbedding, w.NarTextPrenet, w.NarTextPosition, textIds.Slice(textAt, S),
                    texts.Slice(textAt, S), textScratch);

                var all = hostCodes[s] = new int[(P + G) * books];
                ReadOnlySpan<long> prompt = input.PromptCodes.Span;
                for (int i = 0; i < prompt.Length; i++) all[i] = (int)prompt[i];
                result[s] = new long[G * books];
                for (int t = 0; t < G; t++) all[(P + t) * books] = (int)(result[s][t * books] = input.FirstCodebook[t]);
                if (P + G > 0) b.Write(codes.Slice(codeAt, P + G), all);
                if (fixedPrompt && P > 0) b.GatherSum(w.NarAudioEmbeddings.AsSpan(0, books), codes.Slice(codeAt, P), promptSums.Slice(promptAt, P));

                segments[s] = new AttentionSegment(s, rowAt, 0, S + P + G, 0, Causal: false);
                textRow[s] = textAt;
                codeRow[s] = codeAt;
                promptRow[s] = promptAt;
                promptAt += P;
                rowAt += S + P + G;
                textAt += S;
                codeAt += P + G;
            }

            for (int stage = 1; stage < books; stage++)
            {
                // Assemble [text ; position(prenet(Σ codebook embeddings))] for every sequence.
                for (int s = 0; s < n; s++)
                {
                    var input = inputs[s];
                    int S = input.Text.Length, P = input.PromptCodes.Frames, G = input.FirstCodebook.Length, row = segments[s].Row;
                    b.Copy(texts.Slice(textRow[s], S), x.Slice(row, S));
                    // Prompt frames: the codebooks known so far (prefix mode 0) or all of them (summed once, above);
                    // generated frames: the codebooks known so far.
                    if (P > 0 && fixedPrompt) b.Copy(promptSums.Slice(promptRow[s], P), x.Slice(row + S, P));
                    else if (P > 0) b.GatherSum(w.NarAudioEmbeddings.AsSpan(0, stage), codes.Slice(codeRow[s], P), x.Slice(row + S, P));
                    if (G > 0) b.GatherSum(w.NarAudioEmbeddings.AsSpan(0, stage), codes.Slice(codeRow[s] + P, G), x.Slice(row + S + P, G));
                    var audio = x.Slice(row + S, P + G);
                    if (P + G == 0) continue;
                    if (input.PositionBeforePrenet)
                    {
                        b.AddPositions(w.NarAudioPosition, audio, 0);
                        Inputs.AudioPrenet(b, w.NarAudioPrenet, audio, prenetA, prenetC);
                    }
                    else
                    {
                        Inputs.AudioPrenet(b, w.NarAudioPrenet, audio, prenetA, prenetC);
                        b.AddPositions(w.NarAudioPosition, audio, 0);
                    }
                }
                Transformer.Forward(b, dec, cache, x.Slice(0, rowAt), segments, stage, scratch, cancellation);

                // This stage's codebook: argmax of its prediction layer over the generated frames.
                for (int s = 0; s < n; s++)
                {
                    var input = inputs[s];
                    int S = input.Text.Length, P = input.PromptCodes.Frames, G = input.FirstCodebook.Length;
                    if (G == 0) continue;
                    var l = logits.Slice(0, G);
                    b.Linear(w.NarPredictLayers[stage - 1], x.Slice(segments[s].Row + S + P, G), l);
                    if (observer is not null)
                    {
                        b.Read(l, hostLogits.AsSpan(0, G * vocab));
                        observer.OnNarLogits(s, stage, G, hostLogits.AsSpan(0, G * vocab));
                    }
                    b.ArgMax(l, picked.Slice(0, G));
                    b.Read(picked.Slice(0, G), hostPicked.AsSpan(0, G));
                    var all = hostCodes[s];
                    for (int t = 0; t < G; t++) all[(P + t) * books + stage] = (int)(result[s][t * books + stage] = hostPicked[t]);
                    if (stage < books - 1) b.Write(codes.Slice(codeRow[s] + P, G), all.AsSpan(P * books, G * books));
                }
            }
            return [.. result.Select((codes, s) => new AudioCodes(codes, inputs[s].FirstCodebook.Length, books))];
        }
        finally
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }
}
