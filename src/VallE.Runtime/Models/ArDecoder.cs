using VallE.Runtime.Backends;
using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Runtime.Models;

/// <summary>What the AR needs of one utterance, validated and resolved.</summary>
/// <param name="Languages">VALL-E X: language id per text position; null for lifeiteng models.</param>
/// <param name="Score">sum the log-probability of every sampled token (upstream's <c>best_of</c> score).</param>
internal sealed record ArInput(long[] Text, long[] PromptFirstCodebook, int[]? Languages, SamplingOptions Sampling, int MaxFrames,
    bool Score = false);

/// <summary>What the AR produced for each input.</summary>
/// <param name="LogProbabilities">per input: the sum of the log-probabilities of its sampled tokens (the stopping
/// one included), as upstream's <c>sum_logprobs</c>; 0 for inputs that did not ask for a score.</param>
internal sealed record ArOutput(int[][] Tokens, int[] Steps, string[] StopReasons, double[] LogProbabilities);

/// <summary>
/// The autoregressive decoder with a KV cache, over backend operations. Upstream recomputes the whole sequence at
/// every step; this produces the same numbers with ONE prefill over <c>[text; BOS?; prompt codebook 0]</c> and then
/// one new position per step, for a batch of independent utterances whose decode steps share each layer's weight
/// reads. Everything a step changes lives in backend tensors (tokens, KV lengths, audio positions), so the step is
/// the same sequence of operations every time and a backend may record and replay it (<see cref="IStepGraph"/>);
/// the host reads back two ints per sequence per step to apply upstream's stop rules.
/// </summary>
internal sealed class ArDecoder(ValleWeights w, IComputeBackend b)
{
    /// <summary>Per-utterance state on the host: its tokens so far and how it ended.</summary>
    private sealed class Sequence
    {
        public required ArInput Input { get; init; }
        public required int[] Generated { get; init; }
        public int Count;          // generated tokens so far
        public string StopReason = "";
        public int Steps;
        public int AudioPrefix;    // BOS (if any) + prompt frames
        public double LogProbability; // sum over sampled tokens (scored inputs only)
        public TokenSampler? Scorer;  // the sampler's filters on the host, for the score
        public int TextLength => Input.Text.Length;
    }

    /// <summary>Generated first-codebook tokens of every input, plus step counts, stop reasons and scores.</summary>
    public ArOutput Run(IReadOnlyList<ArInput> inputs, IInferenceObserver? observer,
        CancellationToken cancellation = default)
    {
        var c = w.Config;
        var dec = w.ArDecoder;
        int d = dec.Dim, vocab = c.AudioVocab + 1, bos = c.PrependBos ? 1 : 0, n = inputs.Count;

        // Everything sized up front: the cache for the longest a sequence may get, scratch for the prefill.
        var seqs = new Sequence[n];
        int prefillRows = 0, capacity = 0, maxAudio = 0, maxText = 0, maxHistory = 0;
        for (int s = 0; s < n; s++)
        {
            var input = inputs[s];
            int upstreamLimit = GenerationRequest.MaxFramesPerTextToken * input.Text.Length + 1 - bos; // upstream stops once len(y) - len(prompt) > 16 * len(text)
            int maxGenerated = Math.Max(0, Math.Min(upstreamLimit, input.MaxFrames));
            int audioPrefix = bos + input.PromptFirstCodebook.Length;
            seqs[s] = new Sequence
            {
                Input = input, Generated = new int[maxGenerated + 1], AudioPrefix = audioPrefix,
                Scorer = input.Score ? new TokenSampler(input.Sampling, vocab) : null,
            };
            prefillRows += input.Text.Length + audioPrefix;
            capacity = Math.Max(capacity, input.Text.Length + audioPrefix + maxGenerated + 1);
            maxAudio = Math.Max(maxAudio, audioPrefix + maxGenerated + 1);
            maxText = Math.Max(maxText, input.Text.Length);
            maxHistory = Math.Max(maxHistory, maxGenerated + 1);
        }
        int maxRows = Math.Max(prefillRows, n);
        w.ArAudioPosition.EnsureCapacity(maxAudio);
        w.ArTextPosition.EnsureCapacity(maxText);

        var owned = new List<IDisposable>();
        T Own<T>(T o) where T : IDisposable { owned.Add(o); return o; }
        try
        {
            var x = Own(b.Allocate(TensorType.F32, maxRows, d));
            var ids = Own(b.Allocate(TensorType.I32, maxRows, 2));
            var textScratch = Own(b.Allocate(TensorType.F32, w.ArTextPrenet is null ? 1 : maxText, d));
            int prenetRows = w.ArAudioPrenet is null ? 1 : maxRows;
            var prenetA = Own(b.Allocate(TensorType.F32, prenetRows, Inputs.AudioPrenetWidth));
            var prenetC = Own(b.Allocate(TensorType.F32, prenetRows, Inputs.AudioPrenetWidth));
            var last = Own(b.Allocate(TensorType.F32, n, d));
            var logits = Own(b.Allocate(TensorType.F32, n, vocab));
            var tokens = Own(b.Allocate(TensorType.I32, n, 1));
            var argMax = Own(b.Allocate(TensorType.I32, n, 1));
            var lengths = Own(b.Allocate(TensorType.I32, n, 1));        // KV length of each row's sequence after its step
            var audioPositions = Own(b.Allocate(TensorType.I32, n, 1)); // audio position of each row's newest token
            var cache = Own(b.CreateKvCache("ar_decoder", n, dec.Layers.Length, capacity, d, keepsHistory: true));
            var samplers = Own(b.CreateSamplers(inputs.Select(i => i.Sampling).ToArray(), vocab, maxHistory));
            var scratch = Own(new DecoderScratch(b, maxRows, d, dec.FeedForwardDim));
            var graph = Own(b.CreateStepGraph());

            var active = new int[n];        // slot (sequence index) of each row of the current step
            var hostTokens = new int[n];
            var hostArgMax = new int[n];
            var hostCounters = new int[n];
            var hostLogits = observer is null ? [] : new float[n * vocab];
            bool scoring = seqs.Any(q => q.Scorer is not null);
            var scoreLogits = scoring ? new float[n * vocab] : [];
            int rows = n;

            // Picks a token per row: the sampler of the row's sequence, on the backend.
            void PickTokens()
            {
                if (observer is not null)
                {
                    b.Read(logits.Slice(0, rows), hostLogits.AsSpan(0, rows * vocab));
                    for (int r = 0; r < rows; r++)
                        observer.OnArLogits(active[r], seqs[active[r]].Steps, hostLogits.AsSpan(r * vocab, vocab));
                }
                b.Sample(samplers, logits.Slice(0, rows), active.AsSpan(0, rows), tokens.Slice(0, rows), argMax.Slice(0, rows));
            }

            // Prefill: [text ; BOS? ; prompt codebook 0] of every sequence, stacked.
            var hostIds = new int[prefillRows * 2];
            var segments = new AttentionSegment[n];
            int row = 0;
            for (int s = 0; s < n; s++)
            {
                var q = seqs[s];
                int S = q.TextLength, A = q.AudioPrefix;
                for (int i = 0; i < S; i++)
                {
                    hostIds[(row + i) * 2] = (int)q.Input.Text[i];
                    hostIds[(row + i) * 2 + 1] = q.Input.Languages?[i] ?? 0;
                }
                if (bos == 1) hostIds[(row + S) * 2] = c.BosToken;
                for (int t = 0; t < q.Input.PromptFirstCodebook.Length; t++) hostIds[(row + S + bos + t) * 2] = (int)q.Input.PromptFirstCodebook[t];
                segments[s] = new AttentionSegment(s, row, 0, S + A, S, Causal: true);
                active[s] = s;
                row += S + A;
            }
            b.Write(ids.Slice(0, prefillRows), hostIds);
            foreach (var seg in segments)
            {
                int S = seg.TextLength, A = seg.Length - S;
                Inputs.Text(b, w.ArTextEmbedding, w.ArLanguageEmbedding, w.ArTextPrenet, w.ArTextPosition, ids.Slice(seg.Row, S),
                    x.Slice(seg.Row, S), textScratch);
                var audio = x.Slice(seg.Row + S, A);
                b.GatherSum([w.ArAudioEmbedding], ids.Slice(seg.Row + S, A), audio);
                Inputs.AudioPrenet(b, w.ArAudioPrenet, audio, prenetA, prenetC);
                b.AddPositions(w.ArAudioPosition, audio, 0);
            }
            Transformer.Forward(b, dec, cache, x.Slice(0, row), segments, 0, scratch, cancellation);
            foreach (var seg in segments) b.Copy(x.Slice(seg.Row + seg.Length - 1, 1), last.Slice(seg.Slot, 1));
            b.Linear(w.ArPredictLayer, last.All, logits.All);
            PickTokens();

            // One decode step: each row's newest token at its own audio position, one layer stack, the next token.
            void Step()
            {
                var xr = x.Slice(0, rows);
                b.GatherSum([w.ArAudioEmbedding], tokens.Slice(0, rows), xr);
                Inputs.AudioPrenet(b, w.ArAudioPrenet, xr, prenetA, prenetC);
                b.AddPositions(w.ArAudioPosition, xr, audioPositions.Slice(0, rows));
                b.Increment(lengths.Slice(0, rows), 1);
                Transformer.Decode(b, dec, cache, xr, active.AsSpan(0, rows), lengths.Slice(0, rows), scratch, cancellation);
                b.Linear(w.ArPredictLayer, xr, logits.Slice(0, rows));
                PickTokens();
                b.Increment(audioPositions.Slice(0, rows), 1);
            }
            Action step = Step;

            int version = 0;
            bool batchChanged = true;
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                b.Read(tokens.Slice(0, rows), hostTokens.AsSpan(0, rows));
                b.Read(argMax.Slice(0, rows), hostArgMax.AsSpan(0, rows));
                if (scoring) b.Read(logits.Slice(0, rows), scoreLogits.AsSpan(0, rows * vocab));

                // Upstream's stop rules decide who continues; finished sequences leave the batch.
                int next = 0;
                for (int r = 0; r < rows; r++)
                {
                    var q = seqs[active[r]];
                    q.Steps++;
                    int token = hostTokens[r];
                    // Upstream adds every sampled token's log-probability, the one that ends the sequence included.
                    if (q.Scorer is { } scorer)
                        q.LogProbability += LogProbability(scorer, scoreLogits.AsSpan(r * vocab, vocab), token, q.Generated.AsSpan(0, q.Count));
                    if (ArStopRule.Check(c, token, hostArgMax[r], q.Count, q.TextLength, q.Input.MaxFrames) is { } reason)
                    {
                        q.StopReason = reason;
                        batchChanged = true;
                        continue;
                    }
                    q.Generated[q.Count++] = token;
                    hostTokens[next] = token;
                    active[next++] = active[r];
                }
                rows = next;
                if (rows == 0) break;

                if (batchChanged)
                {
                    // Rows moved: rewrite what the step reads per row from the host's view of each sequence.
                    version++;
                    b.Write(tokens.Slice(0, rows), hostTokens.AsSpan(0, rows));
                    for (int r = 0; r < rows; r++) { var q = seqs[active[r]]; hostCounters[r] = q.TextLength + q.AudioPrefix + q.Count - 1; }
                    b.Write(lengths.Slice(0, rows), hostCounters.AsSpan(0, rows));
                    for (int r = 0; r < rows; r++) { var q = seqs[active[r]]; hostCounters[r] = q.AudioPrefix + q.Count - 1; }
                    b.Write(audioPositions.Slice(0, rows), hostCounters.AsSpan(0, rows));
                    batchChanged = false;
                }
                // An observer reads logits on the host inside the step, which a recorded step cannot do.
                if (observer is null) graph.Run(version, step);
                else Step();
            }

            return new ArOutput(seqs.Select(q => q.Generated[..q.Count]).ToArray(), seqs.Select(q => q.Steps).ToArray(),
                seqs.Select(q => q.StopReason).ToArray(), seqs.Select(q => q.LogProbability).ToArray());
        }
        finally
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }

    /// <summary>
    /// <c>log_softmax</c> of <paramref name="token"/> under the distribution it was drawn from: the logits after the
    /// sampler's penalty, temperature and filters (upstream's <c>topk_sampling</c> takes the log-softmax of the
    /// filtered logits). Works in place on <paramref name="logits"/> (a host copy); allocates nothing.
    /// </summary>
    internal static double LogProbability(TokenSampler scorer, Span<float> logits, int token, ReadOnlySpan<int> recent)
    {
        if ((uint)token >= (uint)logits.Length) return 0;
        scorer.Filter(logits, recent);
        float max = float.NegativeInfinity;
        foreach (float l in logits) if (l > max) max = l;
        if (float.IsNegativeInfinity(max)) return double.NegativeInfinity;
        double sum = 0;
        foreach (float l in logits) if (l != float.NegativeInfinity) sum += Math.Exp(l - max);
        return logits[token] - max - Math.Log(sum);
    }
}
