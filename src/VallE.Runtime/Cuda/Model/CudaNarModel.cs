using VallE.Runtime.Models;
using VallE.Weights;

namespace VallE.Runtime.Cuda.Model;

/// <summary>
/// The NAR half of lifeiteng's VALL-E on the GPU (the stages after the AR in <c>VALLE.inference</c>): for each
/// codebook 1..7 one unmasked pass of the AdaLN decoder over [text ; prompt ; generated], whose input sums the
/// codebook embeddings known so far, then the argmax of that stage's prediction layer. Supported prefix modes: 0
/// (prompt and generated rows gain one codebook per stage) and 1 (prompt rows carry all 8 from the start); modes 2
/// and 4 (enrolled text removed) fall back to the CPU.
/// </summary>
public sealed class CudaNarModel : IDisposable
{
    private readonly CudaDevice _d;
    private readonly ModelConfig _c;
    private readonly CudaDecoderStack _stack;
    private readonly CudaBuffer _textTable, _invFreq, _tablePointers, _vocabs, _x, _logits, _text, _promptCodes, _codes, _picked;
    private readonly CudaBuffer[] _audioTables, _predict;
    private readonly float _textAlpha, _audioAlpha;

    public int Capacity { get; }

    public static bool Supports(ModelConfig c, out string reason)
    {
        reason = CudaValle.UnsupportedFamilyOrPrenet(c)
            ?? (c.PrefixMode is not (0 or 1) ? $"prefix_mode {c.PrefixMode} is not supported on CUDA"
            : c.NumQuantizers != 8 ? $"num_quantizers {c.NumQuantizers} is not supported on CUDA"
            : c.NarDModel % c.NarNHead != 0 || c.NarDModel / c.NarNHead > 128 ? $"NAR head dim {c.NarDModel}/{c.NarNHead} is not supported on CUDA"
            : "");
        return reason.Length == 0;
    }

    /// <summary>Loads the NAR weights; <paramref name="capacity"/> bounds text + prompt + generated frames.</summary>
    public CudaNarModel(CudaDevice device, ModelConfig config, ICudaWeightSource weights, int capacity)
    {
        if (!Supports(config, out string why)) throw new InvalidInputException(why);
        _d = device;
        _c = config;
        Capacity = capacity;
        int nd = config.NarDModel, books = config.NumQuantizers, vocab = config.AudioVocab;
        var plan = new CudaMemoryPlan(
            4L * ((long)config.TextVocab * nd + (long)books * (vocab + 1) * nd + (long)(books - 1) * vocab * nd)
                + CudaDecoderStack.WeightBytes(config.NarNumLayers, nd, config.NarFeedForwardDim, books - 1),
            0, CudaMemoryPlan.Activations(capacity, 1, nd, config.NarFeedForwardDim, vocab, config.NarNHead, 1));
        plan.EnsureFits(device, $"the NAR decoder with {capacity} positions");

        var stages = new float[books - 1][];
        for (int s = 0; s < stages.Length; s++) stages[s] = weights.Floats($"nar_stage_embeddings.{s}.word_embeddings.weight", 1, nd);
        var owned = new List<IDisposable>();
        try
        {
            _textTable = Track(owned, device.Upload<float>(weights.Floats("nar_text_embedding.word_embeddings.weight", config.TextVocab, nd)));
            _audioTables = new CudaBuffer[books];
            int[] vocabs = new int[books];
            for (int j = 0; j < books; j++)
            {
                vocabs[j] = vocab + (j == 0 ? 1 : 0);  // book 0 also embeds the AR's EOS
                _audioTables[j] = Track(owned, device.Upload<float>(weights.Floats($"nar_audio_embeddings.{j}.word_embeddings.weight", vocabs[j], nd)));
            }
            _tablePointers = Track(owned, device.Upload<long>(_audioTables.Select(t => (long)t.Pointer).ToArray()));
            _vocabs = Track(owned, device.Upload<int>(vocabs));
            _predict = new CudaBuffer[books - 1];
            for (int j = 0; j < books - 1; j++)
                _predict[j] = Track(owned, device.Upload<float>(weights.Floats($"nar_predict_layers.{j}.weight", vocab, nd)));
            _textAlpha = weights.Floats("nar_text_position.alpha", 1)[0];
            _audioAlpha = weights.Floats("nar_audio_position.alpha", 1)[0];
            _invFreq = Track(owned, device.Upload<float>(SinePositions.Frequencies(nd)));
            _stack = Track(owned, new CudaDecoderStack(device, weights, "nar_decoder", config.NarNumLayers, nd, config.NarNHead,
                config.NarFeedForwardDim, config.NormFirst, config.LayerNormEps, stages, maxRows: capacity, batch: 1, kvCapacity: 0));
            _x = Track(owned, device.Allocate<float>((long)capacity * nd));
            _logits = Track(owned, device.Allocate<float>((long)capacity * vocab));
            _text = Track(owned, device.Allocate<int>(capacity));
            _promptCodes = Track(owned, device.Allocate<int>((long)capacity * books));
            _codes = Track(owned, device.Allocate<int>((long)capacity * books));
            _picked = Track(owned, device.Allocate<int>(capacity));
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
    /// Codebooks 1..7 for the AR's <paramref name="firstCodebook"/> tokens. <paramref name="promptCodes"/>: the
    /// prompt's [T, 8] codes, frame-major. Returns the generated frames' [G, 8] codes, frame-major (book 0 = input).
    /// </summary>
    public int[] Generate(ReadOnlySpan<int> textTokens, ReadOnlySpan<int> promptCodes, ReadOnlySpan<int> firstCodebook)
    {
        int books = _c.NumQuantizers, nd = _c.NarDModel, vocab = _c.AudioVocab;
        int s = textTokens.Length, t = promptCodes.Length / books, g = firstCodebook.Length;
        if (promptCodes.Length % books != 0) throw new InvalidInputException($"prompt codes are not [T, {books}]");
        if (s + t + g > Capacity) throw new InvalidInputException($"text + prompt + generated ({s + t + g}) exceed the CUDA NAR's {Capacity} positions");
        foreach (int c in promptCodes) if (c < 0 || c >= vocab) throw new InvalidInputException($"prompt code {c} is outside 0..{vocab - 1}");
        foreach (int c in firstCodebook) if (c < 0 || c > vocab) throw new InvalidInputException($"AR token {c} is outside 0..{vocab}");
        foreach (int c in textTokens) if (c < 0 || c >= _c.TextVocab) throw new InvalidInputException($"text token {c} is outside the vocabulary");
        var codes = new int[g * books];
        for (int i = 0; i < g; i++) codes[i * books] = firstCodebook[i];
        if (g == 0) return codes;
        _text.Upload<int>(textTokens);
        _promptCodes.Upload<int>(promptCodes);
        var picked = new int[g];

        for (int stage = 0; stage < books - 1; stage++)
        {
            _codes.Upload<int>(codes);
            CudaKernels.EmbedPositional(_d, CudaDType.F32, _textTable.Pointer, _c.TextVocab, _text.Pointer, s, nd, 1f, _textAlpha, true,
                _invFreq.Pointer, 0, 0, _x.Pointer, nd);
            // Prompt rows: books 0..stage (mode 0) or all books (mode 1); generated rows: the books known so far.
            int promptBooks = _c.PrefixMode == 0 ? stage + 1 : books;
            if (t > 0)
                CudaKernels.EmbedSumPositional(_d, CudaDType.F32, _tablePointers.Pointer, _vocabs.Pointer, promptBooks, _promptCodes.Pointer, books,
                    t, nd, 1f, _audioAlpha, true, _invFreq.Pointer, 0, _x.At<float>((long)s * nd), nd);
            CudaKernels.EmbedSumPositional(_d, CudaDType.F32, _tablePointers.Pointer, _vocabs.Pointer, stage + 1, _codes.Pointer, books,
                g, nd, 1f, _audioAlpha, true, _invFreq.Pointer, t, _x.At<float>((long)(s + t) * nd), nd);
            nint y = _stack.Forward(_x.Pointer, s + t + g, 0, causal: false, stage: stage);
            CudaBlas.LinearF32(_d, y + (nint)((long)(s + t) * nd * sizeof(float)), _predict[stage].Pointer, _logits.Pointer, g, nd, vocab);
            CudaKernels.ArgMax(_d, CudaDType.F32, _logits.Pointer, g, vocab, vocab, _picked.Pointer);
            _picked.Download<int>(picked);
            for (int i = 0; i < g; i++) codes[i * books + stage + 1] = picked[i];
        }
        return codes;
    }

    public void Dispose()
    {
        _stack?.Dispose();
        foreach (var b in new[] { _textTable, _invFreq, _tablePointers, _vocabs, _x, _logits, _text, _promptCodes, _codes, _picked })
            b?.Dispose();
        foreach (var b in _audioTables ?? []) b?.Dispose();
        foreach (var b in _predict ?? []) b?.Dispose();
    }
}
