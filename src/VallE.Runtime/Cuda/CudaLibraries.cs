using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace VallE.Runtime.Cuda;

/// <summary>
/// Locates the three native libraries of the CUDA backend and hands them to the LibraryImport stubs:
/// the CUDA runtime (libcudart), cuBLAS and our kernels (libvalle_kernels). The stubs name placeholder libraries
/// ("valle-cudart", ...) that no loader knows; <see cref="ResolveImport"/> maps them to the handles found here.
/// <para>
/// Nothing is loaded until <see cref="TryLoad"/> runs, so the runtime starts and runs on machines without any CUDA
/// library; a failed load leaves a one-line reason instead of an exception. Versioned sonames are tried newest
/// first (CUDA 13, 12, 11), because distributions ship only the versioned name without the -dev package.
/// </para>
/// <para>
/// Environment overrides (a path to the file): <c>VALLE_CUDART_LIB</c>, <c>VALLE_CUBLAS_LIB</c>,
/// <c>VALLE_KERNELS_LIB</c>. Without <c>VALLE_KERNELS_LIB</c> the kernels are looked for beside the assemblies,
/// then in <c>runtimes/linux-&lt;arch&gt;/native</c> under them (the NuGet package's native asset), then in
/// <c>build/kernels</c> of a source checkout above them (what <c>./build.sh kernels</c> produces), then
/// through the system loader.
/// </para>
/// </summary>
internal static class CudaLibraries
{
    public const string CudartName = "valle-cudart";
    public const string CublasName = "valle-cublas";
    public const string KernelsName = "valle-kernels";

    public const string CudartEnvVar = "VALLE_CUDART_LIB";
    public const string CublasEnvVar = "VALLE_CUBLAS_LIB";
    public const string KernelsEnvVar = "VALLE_KERNELS_LIB";

    private static readonly string[] CudartNames = OperatingSystem.IsWindows()
        ? ["cudart64_13.dll", "cudart64_12.dll", "cudart64_110.dll"]
        : WithToolkitDirs(["libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"]);

    private static readonly string[] CublasNames = OperatingSystem.IsWindows()
        ? ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]
        : WithToolkitDirs(["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"]);

    /// <summary>
    /// The loader's search path first, then NVIDIA's toolkit folders, which the loader often does not know
    /// (a runfile/.deb toolkit installs to /usr/local/cuda without an ld.so.conf entry).
    /// </summary>
    private static string[] WithToolkitDirs(string[] names)
    {
        string[] dirs = ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/targets/sbsa-linux/lib"];
        return [.. names, .. dirs.SelectMany(d => names.Select(n => Path.Combine(d, n)))];
    }

    private static readonly string KernelsFile = OperatingSystem.IsWindows() ? "valle_kernels.dll" : "libvalle_kernels.so";

    private static readonly Lock Gate = new();
    private static nint s_cudart, s_cublas, s_kernels;
    private static string? s_failure;
    private static bool s_attempted;

    public static string? CudartPath { get; private set; }
    public static string? CublasPath { get; private set; }
    public static string? KernelsPath { get; private set; }

    static CudaLibraries()
    {
        // An event rather than SetDllImportResolver: the assembly has one resolver slot and other bindings need it.
        var context = AssemblyLoadContext.GetLoadContext(typeof(CudaLibraries).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += ResolveImport;
    }

    private static nint ResolveImport(Assembly assembly, string name)
    {
        if (assembly != typeof(CudaLibraries).Assembly) return 0;
        return name switch
        {
            CudartName => s_cudart,
            CublasName => s_cublas,
            KernelsName => s_kernels,
            _ => 0,
        };
    }

    /// <summary>
    /// Loads the three libraries once per process. Returns false with a reason naming what is missing (and the
    /// names tried) when any is unavailable; later calls return the same answer.
    /// </summary>
    public static bool TryLoad(out string reason)
    {
        lock (Gate)
        {
            if (!s_attempted)
            {
                s_attempted = true;
                s_failure = LoadAll();
            }
            reason = s_failure ?? "";
            return s_failure is null;
        }
    }

    /// <summary>
    /// Loads only libvalle_kernels (it links the CUDA runtime statically, so it loads on machines without CUDA):
    /// enough for its host-side functions such as the Philox generator. Returns false with a reason when absent.
    /// </summary>
    public static bool TryLoadKernels(out string reason)
    {
        lock (Gate)
        {
            if (s_kernels == 0)
            {
                if (!TryLoadFirst(KernelsEnvVar, KernelCandidates(), out s_kernels, out string? path))
                {
                    reason = KernelsMissing;
                    return false;
                }
                KernelsPath = path;
            }
            reason = CheckKernelsAbi() ?? "";
            return reason.Length == 0;
        }
    }

    private static string KernelsMissing => $"{KernelsFile} not found; build it with './build.sh kernels' or set {KernelsEnvVar}";

    private static string? LoadAll()
    {
        if (!TryLoadFirst(CudartEnvVar, CudartNames, out s_cudart, out string? path))
            return $"CUDA runtime library not found (tried {Describe(CudartEnvVar, CudartNames)}); install the CUDA runtime or set {CudartEnvVar}";
        CudartPath = path;
        if (!TryLoadFirst(CublasEnvVar, CublasNames, out s_cublas, out path))
            return $"cuBLAS not found (tried {Describe(CublasEnvVar, CublasNames)}); install libcublas or set {CublasEnvVar}";
        CublasPath = path;
        if (s_kernels == 0)
        {
            if (!TryLoadFirst(KernelsEnvVar, KernelCandidates(), out s_kernels, out path)) return KernelsMissing;
            KernelsPath = path;
        }
        return CheckKernelsAbi();
    }

    /// <summary>
    /// A library from another checkout or an older build has other signatures behind the same names: calling it
    /// would corrupt memory, so a version mismatch is a reason to refuse it.
    /// </summary>
    private static unsafe string? CheckKernelsAbi()
    {
        if (!NativeLibrary.TryGetExport(s_kernels, "valle_kernels_abi_version", out nint export))
            return $"{KernelsPath} is not libvalle_kernels (no valle_kernels_abi_version)";
        int abi = ((delegate* unmanaged<int>)export)();
        return abi == ValleKernelsNative.AbiVersion ? null
            : $"{KernelsPath} has kernel ABI {abi} but this build needs {ValleKernelsNative.AbiVersion}: rebuild it with './build.sh kernels'";
    }

    private static string[] KernelCandidates()
    {
        var list = new List<string> { Path.Combine(AppContext.BaseDirectory, KernelsFile) };
        // The VallE.Runtime package's native asset: an application built without a RuntimeIdentifier keeps it in
        // runtimes/<rid>/native under its output folder (with one, it lands beside the assemblies, above).
        if (OperatingSystem.IsLinux())
        {
            string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            list.Add(Path.Combine(AppContext.BaseDirectory, "runtimes", $"linux-{arch}", "native", KernelsFile));
        }
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "VallE.sln")))
            {
                list.Add(Path.Combine(dir, "build", "kernels", KernelsFile));
                break;
            }
        }
        list.Add(KernelsFile);
        return [.. list];
    }

    private static bool TryLoadFirst(string envVar, string[] names, out nint handle, out string? path)
    {
        if (Environment.GetEnvironmentVariable(envVar) is { Length: > 0 } explicitPath)
        {
            path = explicitPath;
            return NativeLibrary.TryLoad(explicitPath, out handle);
        }
        foreach (string name in names)
        {
            // Absolute candidates that do not exist are skipped without asking the loader.
            if (Path.IsPathRooted(name) && !File.Exists(name)) continue;
            if (NativeLibrary.TryLoad(name, out handle))
            {
                path = name;
                return true;
            }
        }
        handle = 0;
        path = null;
        return false;
    }

    private static string Describe(string envVar, string[] names) =>
        Environment.GetEnvironmentVariable(envVar) is { Length: > 0 } p ? $"${envVar}={p}"
            : string.Join(", ", names.Where(n => !Path.IsPathRooted(n))) + " and /usr/local/cuda";

    /// <summary>True when <paramref name="export"/> exists in the loaded cuBLAS (entry points vary by version).</summary>
    public static bool CublasHasExport(string export) => s_cublas != 0 && NativeLibrary.TryGetExport(s_cublas, export, out _);
}
