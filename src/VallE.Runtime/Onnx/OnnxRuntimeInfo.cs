namespace VallE.Runtime.Onnx;

/// <summary>Facts about the ONNX Runtime library in use (loading it if needed).</summary>
public static class OnnxRuntimeInfo
{
    /// <summary>Loads ONNX Runtime (see <see cref="OnnxSessionOptions.LibraryPath"/> for the lookup) and returns its path and version.</summary>
    public static (string Path, string Version) Load(string? libraryPath = null) => OrtLibrary.EnsureLoaded(libraryPath);

    /// <summary>Execution providers compiled into the loaded library.</summary>
    public static IReadOnlyList<string> AvailableProviders(string? libraryPath = null)
    {
        OrtLibrary.EnsureLoaded(libraryPath);
        return OrtLibrary.AvailableProviders();
    }
}
