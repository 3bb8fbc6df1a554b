using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Runtime.Cuda.Model;

/// <summary>Why the AR stopped (upstream's three conditions).</summary>
public enum CudaArStop
{
    /// <summary>The argmax of the logits was EOS.</summary>
    ArgMaxEos,
    /// <summary>The sampled token was EOS.</summary>
    SampledEos,
    /// <summary>More than 16 frames per text token (upstream's <c>(y_len - prompt_len) &gt; x_len * 16</c>).</summary>
    LengthLimit,
}

/// <summary>
/// The AR half of lifeiteng's VALL-E on the GPU (<c>VALLE.inference</c>'s while loop), one utterance at a time:
/// a prefill over [text ; prompt's first codebook] with the VALL-E mask fills the KV cache, then each new token is
/// one replay of a CUDA graph captured once per model:
/// <code>
/// embed(token at device audio position) → decoder step (KV append at device position) → ar_predict_layer
///   → valle_sample (token, argmax, history, RNG counter on the device) → advance the three device counters
/// </code>
/// The host reads back 8 bytes per token (token + argmax) to apply the stop rule. Supported: VALL-E family without
/// prenets (upstream's default); the caller falls back to the CPU engine otherwise (<see cref="Supports"/>).
/// </summary>
public sealed class CudaArModel : IDisposable
{
    private readonly CudaDevice _d;
    private readonly ModelConfig _c;
    private readonly CudaDecoderStack _stack;
    private readonly CudaBuffer _textTable, _audioTable, _predict, _invFreq;
    private readonly CudaBuffer _x, _logits, _tokens, _state, _picked, _history, _historyLength, _rng;
    private readonly float _textAlpha, _audioAlpha;
    private readonly int _textVocab, _audioRows, _vocab;
    private CudaGraph? _step;
    private SamplingOptions? _stepOptions;
    private ulong _stepSeed;
    private readonly int[] _pickedHost = new int[2];

    /// <summary>Positions the model holds (prefill + generated); fixed at load, as the KV cache is.</summary>
    public int Capacity { get; }

    // Device counters the step graph advances: [0] cache position of the new token, [1] KV length, [2] audio position.
    private const int CachePosition = 0, KvLength = 1, AudioPosition = 2;

    public static bool Supports(ModelConfig c, out string reason)
    {
        reason = CudaValle.UnsupportedFamilyOrPrenet(c)
            ?? (c.DModel % c.NHead != 0 || c.DModel / c.NHead > 128 ? $"head dim {c.DModel}/{c.NHead} is not supported on CUDA"
            : "");
        return reason.Length == 0;
    }

    /// <summary>
    /// Loads the AR weights onto <paramref name="device"/>. <paramref name="capacity"/> bounds text + prompt +
    /// generated positions; the memory plan is checked first and fails with <see cref="InvalidInputException"/> when it cannot fit.
    /// </summary>
    public CudaArModel(CudaDevice device, ModelConfig config, ICudaWeightSource weights, int capacity)
    {
        if (!Supports(config, out string why)) throw new InvalidInputException(why);
        _d = device;
        _c = config;
        Capacity = capacity;
        int d = config.DModel;
        _vocab = config.AudioVocab + 1;
        _audioRows = config.AudioVocab + 1 + (config.PrependBos ? 1 : 0);
        float[] text = weights.Floats("ar_text_embedding.word_embeddings.weight", config.TextVocab, d);
        _textVocab = config.TextVocab;

        var plan = new CudaMemoryPlan(
            4L * ((long)config.TextVocab * d + (long)_audioRows * d + (long)_vocab * d)
                + CudaDecoderStack.WeightBytes(config.NumLayers, d, config.FeedForwardDim, 0),
            CudaMemoryPlan.KvCache(config.NumLayers, 1, capacity, d, CudaDType.F32),
            CudaMemoryPlan.Activations(capacity, 1, d, config.FeedForwardDim, _vocab, config.NHead, capacity));
        plan.EnsureFits(device, $"the AR decoder with {capacity} positions");

        var owned = new List<IDisposable>();
        try
        {
            _textTable = Track(owned, device.Upload<float>(text));
            _audioTable = Track(owned, device.Upload<float>(weights.Floats("ar_audio_embedding.word_embeddings.weight", _audioRows, d)));
            _predict = Track(owned, device.Upload<float>(weights.Floats("ar_predict_layer.weight", _vocab, d)));
            _textAlpha = weights.Floats("ar_text_position.alpha", 1)[0];
            _audioAlpha = weights.Floats("ar_audio_position.alpha", 1)[0];
            _invFreq = Track(owned, device.Upload<float>(SinePositions.Frequencies(d)));
            _stack = Track(owned, new CudaDecoderStack(device, weights, "ar_decoder", config.NumLayers, d, config.NHead, config.FeedForwardDim,
                config.NormFirst, config.LayerNormEps, null, maxRows: capacity, batch: 1, kvCapacity: capacity));
            _x = Track(owned, device.Allocate<float>((long)capacity * d));
            _logits = Track(owned, device.Allocate<float>(_vocab));
            _tokens = Track(owned, device.Allocate<int>(capacity));
            _state = Track(owned, device.Allocate<int>(3));
            _picked = Track(owned, device.Allocate<int>(2));
            _history = Track(owned, device.Allocate<int>(capacity));
            _historyLength = Track(owned, device.Allocate<int>(1));
            _rng = Track(owned, device.Allocate<ulong>(1));
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }
    }

    private static T Track<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }



    /// <summary>
    /// Generates first-codebook tokens for <paramref name="textTokens"/> (already framed as the text collater does)
    /// after <paramref name="promptFirstCodebook"/>. Returns the generated tokens (EOS excluded) and why it stopped.
    /// </summary>
    public (int[] Tokens, CudaArStop Stop) Generate(ReadOnlySpan<int> textTokens, ReadOnlySpan<int> promptFirstCodebook,
        SamplingOptions options, ulong seed, CancellationToken cancellation = default)
    {
        int s = textTokens.Length, bos = _c.PrependBos ? 1 : 0, y0 = promptFirstCodebook.Length + bos, d = _c.DModel;
        if (s == 0) throw new InvalidInputException("the text has no tokens");
        if (s + y0 >= Capacity)
            throw new InvalidInputException($"text ({s}) + prompt ({y0}) tokens exceed the CUDA model's {Capacity} positions");
        foreach (int t in textTokens)
            if (t < 0 || t >= _textVocab) throw new InvalidInputException($"text token {t} is outside the vocabulary (0..{_textVocab - 1})");
        foreach (int t in promptFirstCodebook)
            if (t < 0 || t >= _c.AudioVocab) throw new InvalidInputException($"prompt code {t} is outside 0..{_c.AudioVocab - 1}");

        // Prefill: [text ; BOS? prompt] embedded with their own positional encodings, one causal pass.
        var audio = new int[y0];
        if (bos == 1) audio[0] = _c.BosToken;
        promptFirstCodebook.CopyTo(audio.AsSpan(bos));
        _tokens.Upload<int>(textTokens);
        CudaKernels.EmbedPositional(_d, CudaDType.F32, _textTable.Pointer, _textVocab, _tokens.Pointer, s, d, 1f, _textAlpha, true,
            _invFreq.Pointer, 0, 0, _x.Pointer, d);
        _tokens.Upload<int>(audio);
        CudaKernels.EmbedPositional(_d, CudaDType.F32, _audioTable.Pointer, _audioRows, _tokens.Pointer, y0, d, 1f, _audioAlpha, true,
            _invFreq.Pointer, 0, 0, _x.At<float>((long)s * d), d);
        nint y = _stack.Forward(_x.Pointer, s + y0, s, causal: true);
        CudaBlas.LinearF32(_d, y + (nint)((long)(s + y0 - 1) * d * sizeof(float)), _predict.Pointer, _logits.Pointer, 1, d, _vocab);
        _historyLength.Clear();
        _rng.Clear();
        SampleInto(options, seed);

        _state.Upload<int>([s + y0, s + y0 + 1, y0]);
        EnsureStepGraph(options, seed);

        var generated = new List<int>();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            _picked.Download<int>(_pickedHost);
            int token = _pickedHost[0], argmax = _pickedHost[1];
            switch (ArStopRule.Check(_c, token, argmax, generated.Count, s, int.MaxValue))
            {
                case "eos": return ([.. generated], argmax == _c.EosToken ? CudaArStop.ArgMaxEos : CudaArStop.SampledEos);
                case "length": return ([.. generated], CudaArStop.LengthLimit);
            }
            generated.Add(token);
            if (s + y0 + generated.Count >= Capacity)
                throw new InvalidInputException($"generation reached the CUDA model's {Capacity} positions; load it with a larger capacity");
            _step!.Launch();
        }
    }

    private void SampleInto(SamplingOptions options, ulong seed) =>
        CudaKernels.Sample(_d, CudaDType.F32, _logits.Pointer, 1, _vocab, _vocab, options, seed, _history.Pointer, Capacity,
            _historyLength.Pointer, _rng.Pointer, _picked.Pointer, _picked.At<int>(1));

    // The step reads everything that changes from device memory, so one graph serves every token and utterance;
    // sampling options and seed are captured arguments, so a change re-captures.
    private void EnsureStepGraph(SamplingOptions options, ulong seed)
    {
        if (_step is not null && _stepOptions == options && _stepSeed == seed) return;
        _step?.Dispose();
        int d = _c.DModel;
        _step = CudaGraph.Capture(_d, () =>
        {
            CudaKernels.EmbedPositional(_d, CudaDType.F32, _audioTable.Pointer, _audioRows, _picked.Pointer, 1, d, 1f, _audioAlpha, true,
                _invFreq.Pointer, 0, _state.At<int>(AudioPosition), _x.Pointer, d);
            nint y = _stack.DecodeStep(_x.Pointer, _state.At<int>(CachePosition), _state.At<int>(KvLength));
            CudaBlas.LinearF32(_d, y, _predict.Pointer, _logits.Pointer, 1, d, _vocab);
            SampleInto(options, seed);
            CudaKernels.CounterAdd(_d, _state.Pointer, 3, 1);
        });
        _stepOptions = options;
        _stepSeed = seed;
    }

    public void Dispose()
    {
        _step?.Dispose();
        _stack?.Dispose();
        foreach (var b in new[] { _textTable, _audioTable, _predict, _invFreq, _x, _logits, _tokens, _state, _picked, _history, _historyLength, _rng })
            b?.Dispose();
    }
}
