using VallE.Runtime.Cpu;
using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>What the AR needs of one utterance, validated and resolved.</summary>
/// <param name="Languages">VALL-E X: language id per text position; null for lifeiteng models.</param>
internal sealed record ArInput(long[] Text, long[] PromptFirstCodebook, int[]? Languages, SamplingOptions Sampling, int MaxFrames);

/// <summary>
/// The autoregressive decoder with a KV cache. Upstream recomputes the whole sequence at every step; this
/// produces the same numbers with ONE prefill over <c>[text; BOS?; prompt codebook 0]</c> and then one new position
/// per step, for a batch of independent utterances whose decode steps share each layer's weight reads.
/// </summary>
internal sealed class ArDecoder
{
    private readonly ValleWeights _w;
    private readonly CpuBackend _backend;

    public ArDecoder(ValleWeights weights, CpuBackend backend)
    {
        _w = weights;
        _backend = backend;
    }

    /// <summary>Per-utterance state: its cache, tokens so far and sampler, all allocated before decoding.</summary>
    private sealed class Sequence
    {
        public required ArInput Input { get; init; }
        public required KvCache Cache { get; init; }
        public required TokenSampler Sampler { get; init; }
        public required int[] Generated { get; init; }
        public int Count;          // generated tokens so far
        public bool Done;
        public string StopReason = "";
        public int Steps;
        public int AudioPrefix;    // BOS (if any) + prompt frames
        public int TextLength => Input.Text.Length;
    }

    /// <summary>Generated first-codebook tokens of every input, plus step counts and stop reasons.</summary>
    public (int[][] Tokens, int[] Steps, string[] StopReasons) Run(IReadOnlyList<ArInput> inputs, IInferenceObserver? observer,
        CancellationToken cancellation = default)
    {
        var c = _w.Config;
        int d = _w.ArDecoder.Dim, vocab = c.AudioVocab + 1, bos = c.PrependBos ? 1 : 0;

        // Everything sized up front: caches for the longest each sequence may get, scratch for the prefill.
        var seqs = new Sequence[inputs.Count];
        int prefillRows = 0, maxKeys = 0, maxAudio = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            var input = inputs[s];
            int upstreamLimit = GenerationRequest.MaxFramesPerTextToken * input.Text.Length + 1 - bos; // upstream stops once len(y) - len(prompt) > 16 * len(text)
            int maxGenerated = Math.Max(0, Math.Min(upstreamLimit, input.MaxFrames));
            int audioPrefix = bos + input.PromptFirstCodebook.Length;
            int capacity = input.Text.Length + audioPrefix + maxGenerated + 1;
            seqs[s] = new Sequence
            {
                Input = input,
                Cache = new KvCache(_w.ArDecoder.Layers.Length, capacity, d),
                Sampler = new TokenSampler(input.Sampling, vocab),
                Generated = new int[maxGenerated + 1],
                AudioPrefix = audioPrefix,
            };
            prefillRows += input.Text.Length + audioPrefix;
            maxKeys = Math.Max(maxKeys, capacity);
            maxAudio = Math.Max(maxAudio, audioPrefix + maxGenerated + 1);
        }
        int maxRows = Math.Max(prefillRows, seqs.Length);
        _w.ArAudioPosition.EnsureCapacity(maxAudio);
        _w.ArTextPosition.EnsureCapacity(inputs.Max(i => i.Text.Length));
        var ws = new Workspace(maxRows, d, _w.ArDecoder.FeedForwardDim, maxKeys, _backend);
        var x = new float[maxRows * d];
        var last = new float[seqs.Length * d];
        var logits = new float[seqs.Length * vocab];
        var prenetScratch = _w.ArAudioPrenet is { } ap ? new float[maxRows * ap.ScratchPerRow] : [];
        var segments = new Segment[seqs.Length];
        var active = new int[seqs.Length]; // sequence index of each row of the current step

        // Prefill: [text ; BOS? ; prompt codebook 0] of every sequence, stacked.
        int row = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            var q = seqs[s];
            int S = q.TextLength;
            TextEncoder.Encode(_backend, q.Input.Text, _w.ArTextEmbedding, _w.ArLanguageEmbedding, q.Input.Languages,
                _w.ArTextPrenet, _w.ArTextPosition, x.AsSpan(row * d, S * d));
            var audio = x.AsSpan((row + S) * d, q.AudioPrefix * d);
            if (bos == 1) _w.ArAudioEmbedding.CopyTo(c.BosToken, audio[..d]);
            for (int t = 0; t < q.Input.PromptFirstCodebook.Length; t++)
                _w.ArAudioEmbedding.CopyTo(q.Input.PromptFirstCodebook[t], audio.Slice((bos + t) * d, d));
            _w.ArAudioPrenet?.Apply(_backend, audio, q.AudioPrefix, prenetScratch);
            _w.ArAudioPosition.Apply(audio, 0, q.AudioPrefix);
            segments[s] = new Segment(q.Cache, row, 0, S + q.AudioPrefix, S, Causal: true);
            active[s] = s;
            row += S + q.AudioPrefix;
        }
        DecoderStack.Forward(_w.ArDecoder, x, row, segments.AsSpan(0, seqs.Length), 0, ws, cancellation);
        for (int s = 0; s < seqs.Length; s++)
            x.AsSpan((segments[s].Row + segments[s].Length - 1) * d, d).CopyTo(last.AsSpan(s * d, d));
        int rows = seqs.Length;

        while (true)
        {
            _w.ArPredictLayer.Forward(_backend, last.AsSpan(0, rows * d), rows, logits.AsSpan(0, rows * vocab));

            // Pick a token per active sequence; upstream's stop rules decide who continues.
            int next = 0;
            for (int r = 0; r < rows; r++)
            {
                var q = seqs[active[r]];
                var l = logits.AsSpan(r * vocab, vocab);
                observer?.OnArLogits(active[r], q.Steps, l);
                q.Steps++;
                int argmax = TokenSampler.ArgMax(l);
                int token = q.Sampler.Sample(l, q.Generated.AsSpan(0, q.Count));
                if (ArStopRule.Check(c, token, argmax, q.Count, q.TextLength, q.Input.MaxFrames) is { } reason)
                {
                    q.StopReason = reason;
                    q.Done = true;
                    continue;
                }
                q.Generated[q.Count++] = token;
                active[next++] = active[r];
            }
            rows = next;
            if (rows == 0) break;

            // One new position per still-active sequence: its token's embedding at its own audio position.
            for (int r = 0; r < rows; r++)
            {
                var q = seqs[active[r]];
                int audioPos = q.AudioPrefix + q.Count - 1;
                var xr = x.AsSpan(r * d, d);
                _w.ArAudioEmbedding.CopyTo(q.Generated[q.Count - 1], xr);
                _w.ArAudioPrenet?.Apply(_backend, xr, 1, prenetScratch);
                _w.ArAudioPosition.Apply(xr, audioPos, 1);
                segments[r] = new Segment(q.Cache, r, q.TextLength + audioPos, 1, q.TextLength, Causal: true);
            }
            DecoderStack.Forward(_w.ArDecoder, x, rows, segments.AsSpan(0, rows), 0, ws, cancellation);
            x.AsSpan(0, rows * d).CopyTo(last);
        }

        return (seqs.Select(q => q.Generated[..q.Count]).ToArray(), seqs.Select(q => q.Steps).ToArray(),
            seqs.Select(q => q.StopReason).ToArray());
    }
}
