namespace VallE.Runtime.Onnx;

/// <summary>Facts about the ONNX Runtime in use (the Microsoft.ML.OnnxRuntime package's native library).</summary>
public static class OnnxRuntimeInfo
{
    /// <summary>Loads ONNX Runtime if needed and returns its version; <see cref="NativeDependencyException"/> when it cannot load.</summary>
    public static string Load() => OrtRuntime.Env.GetVersionString();

    /// <summary>Execution providers compiled into the loaded library (CPUExecutionProvider; CUDAExecutionProvider with the .Gpu package).</summary>
    public static IReadOnlyList<string> AvailableProviders() => OrtRuntime.Env.GetAvailableProviders();
}
