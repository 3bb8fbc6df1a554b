namespace VallE.Runtime.Cuda;

/// <summary>What <c>--device</c> asked for.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when a usable GPU is found, else the CPU (with one log line saying why).</summary>
    Auto,
    Cpu,
    /// <summary>CUDA or nothing: a missing GPU is an error (exit 3) carrying the probe's reason.</summary>
    Cuda,
}

/// <summary>
/// Resolves <c>--device auto|cpu|cuda</c> to a backend. The CLI commands call <see cref="Resolve"/> once, before
/// loading a model, and run on the CPU when it returns null.
/// </summary>
public static class DeviceSelection
{
    public static DeviceKind Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" or "gpu" => DeviceKind.Cuda,
        _ => throw new UsageException($"--device must be auto, cpu or cuda (got '{value}')"),
    };

    /// <summary>
    /// Returns the GPU to use, or null for the CPU. <paramref name="log"/> gets one line when <c>auto</c> falls back
    /// to the CPU. <c>cuda</c> without a usable GPU throws <see cref="NativeDependencyException"/> (exit 3).
    /// </summary>
    public static CudaDevice? Resolve(DeviceKind kind, Action<string> log, int ordinal = 0)
    {
        if (kind == DeviceKind.Cpu) return null;
        CudaDevice? device = CudaDevice.TryCreate(out string reason, ordinal);
        if (device is not null) return device;
        if (kind == DeviceKind.Cuda) throw new NativeDependencyException($"--device cuda: {reason}");
        log($"no usable CUDA device ({reason}); running on the CPU");
        return null;
    }
}
