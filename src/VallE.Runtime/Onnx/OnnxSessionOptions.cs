namespace VallE.Runtime.Onnx;

/// <summary>How to open an <see cref="OnnxSession"/>.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads inside one operator (0: ONNX Runtime's default, one per core).</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Threads running independent operators in parallel (0: default).</summary>
    public int InterOpThreads { get; init; }
    /// <summary>Try the CUDA execution provider first; fall back to CPU (with a log line) when unavailable.</summary>
    public bool PreferCuda { get; init; }
    /// <summary>Receives one-line notes (provider fallback); null: silent.</summary>
    public Action<string>? Log { get; init; }

    public static OnnxSessionOptions Default { get; } = new();
}
