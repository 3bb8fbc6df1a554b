namespace VallE.Runtime.Cuda;

/// <summary>Which device a caller asks for (the CLI's <c>--device</c>).</summary>
public enum DeviceKind
{
    /// <summary>CUDA when a usable GPU is found, else the CPU (with one log line saying why).</summary>
    Auto,
    Cpu,
    /// <summary>CUDA or nothing: a missing GPU is a <see cref="NativeDependencyException"/> carrying the probe's reason.</summary>
    Cuda,
}

/// <summary>
/// Resolves a device name (<c>auto|cpu|cuda</c>) to a backend. The CLI commands call <see cref="Resolve"/> once, before
/// loading a model, and run on the CPU when it returns null.
/// </summary>
public static class DeviceSelection
{
    public static DeviceKind Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" or "gpu" => DeviceKind.Cuda,
        _ => throw new ArgumentException($"device must be auto, cpu or cuda (got '{value}')", nameof(value)),
    };

    /// <summary>
    /// Returns the GPU to use, or null for the CPU. <paramref name="log"/> gets one line when <c>auto</c> falls back
    /// to the CPU. <c>cuda</c> without a usable GPU throws <see cref="NativeDependencyException"/>.
    /// </summary>
    public static CudaDevice? Resolve(DeviceKind kind, Action<string> log, int ordinal = 0)
    {
        if (kind == DeviceKind.Cpu) return null;
        CudaDevice? device = CudaDevice.TryCreate(out string reason, ordinal);
        if (device is not null) return device;
        if (kind == DeviceKind.Cuda) throw new NativeDependencyException($"no usable CUDA device: {reason}");
        log($"no usable CUDA device ({reason}); running on the CPU");
        return null;
    }
}
