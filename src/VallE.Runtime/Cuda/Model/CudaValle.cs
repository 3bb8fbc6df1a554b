using VallE.Runtime.Sampling;
using VallE.Weights;

namespace VallE.Runtime.Cuda.Model;

/// <summary>
/// VALL-E (lifeiteng) inference on one GPU: <see cref="CudaArModel"/> then <see cref="CudaNarModel"/>.
/// <code>
/// using var device = DeviceSelection.Resolve(kind, log);           // null: run the CPU engine instead
/// if (device is not null &amp;&amp; CudaValle.Supports(checkpoint.Config, out _))
///     using var valle = CudaValle.Load(device, checkpoint, capacity: 4096);
///     int[] codes = valle.Generate(text, promptCodes, options, seed);   // [G, 8] frame-major
/// </code>
/// Weights are copied to the device at load time; the checkpoint may be disposed afterwards.
/// </summary>
public sealed class CudaValle : IDisposable
{
    private readonly CudaArModel _ar;
    private readonly CudaNarModel _nar;

    public ModelConfig Config { get; }

    private CudaValle(ModelConfig config, CudaArModel ar, CudaNarModel nar)
    {
        Config = config;
        _ar = ar;
        _nar = nar;
    }

    /// <summary>The limits the AR and NAR share: lifeiteng VALL-E only, no prenets. Null when neither applies.</summary>
    internal static string? UnsupportedFamilyOrPrenet(ModelConfig c) =>
        c.Family != ModelFamily.Valle ? $"the CUDA engine runs VALL-E checkpoints only (this is {c.Family})"
        : c.AddPrenet ? "the CUDA engine does not run prenets (add_prenet) yet"
        : null;

    public static bool Supports(ModelConfig config, out string reason) =>
        CudaArModel.Supports(config, out reason) && CudaNarModel.Supports(config, out reason);

    /// <summary>Loads both halves; <paramref name="capacity"/> bounds text + prompt + generated positions.</summary>
    public static CudaValle Load(CudaDevice device, ModelCheckpoint checkpoint, int capacity) =>
        Load(device, checkpoint.Config, new CheckpointWeightSource(checkpoint), capacity);

    public static CudaValle Load(CudaDevice device, ModelConfig config, ICudaWeightSource weights, int capacity)
    {
        if (!Supports(config, out string why)) throw new InvalidInputException(why);
        CheckWeights(config, weights);
        var ar = new CudaArModel(device, config, weights, capacity);
        try
        {
            return new CudaValle(config, ar, new CudaNarModel(device, config, weights, capacity));
        }
        catch
        {
            ar.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads every tensor the GPU path needs and checks its shape, on the host: a checkpoint that does not fit
    /// fails with the offending tensor's name before any device memory is allocated. Needs no GPU.
    /// </summary>
    public static void CheckWeights(ModelConfig c, ICudaWeightSource weights)
    {
        // The upstream layout is written once (ModelLayout); the GPU path reads a subset of it (no prenet buffers).
        foreach (var tensor in ModelLayout.Expected(c))
            if (!tensor.IsInteger) weights.CheckShape(tensor.Name, tensor.Shape);
    }

    /// <summary>
    /// Codes of the generated frames ([G, 8], frame-major) for <paramref name="textTokens"/> after the prompt's
    /// <paramref name="promptCodes"/> ([T, 8], frame-major), and why the AR stopped.
    /// </summary>
    public (int[] Codes, CudaArStop Stop) Generate(ReadOnlySpan<int> textTokens, ReadOnlySpan<int> promptCodes, SamplingOptions options, ulong seed,
        CancellationToken cancellation = default)
    {
        int books = Config.NumQuantizers;
        if (promptCodes.Length % books != 0) throw new InvalidInputException($"prompt codes are not [T, {books}]");
        var first = new int[promptCodes.Length / books];
        for (int i = 0; i < first.Length; i++) first[i] = promptCodes[i * books];
        var (tokens, stop) = _ar.Generate(textTokens, first, options, seed, cancellation);
        cancellation.ThrowIfCancellationRequested();
        return (_nar.Generate(textTokens, promptCodes, tokens), stop);
    }

    public void Dispose()
    {
        _ar.Dispose();
        _nar.Dispose();
    }
}
