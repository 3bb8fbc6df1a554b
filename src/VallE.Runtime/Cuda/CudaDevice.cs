namespace VallE.Runtime.Cuda;

/// <summary>
/// One GPU made ready for the backend: the CUDA runtime, cuBLAS and libvalle_kernels loaded and checked, a
/// non-blocking stream, and a cuBLAS handle bound to that stream with a fixed workspace (so gemms can be captured
/// into a CUDA graph). Every kernel and copy of the backend goes through <see cref="Stream"/>, in order.
/// <para>
/// Create it with <see cref="TryCreate"/>, which never throws for a machine without CUDA: it returns null and a
/// one-line reason (no library, no driver, driver too old, no device, GPU too old, kernels missing or of another
/// ABI version). Not thread-safe: one device object per generating thread.
/// </para>
/// </summary>
public sealed unsafe class CudaDevice : IDisposable
{
    /// <summary>The oldest architecture libvalle_kernels is compiled for (sm_80, Ampere).</summary>
    public const int MinComputeCapability = 80;

    /// <summary>cuBLAS workspace bound to the handle (cuBLAS' own recommendation for Hopper is 32 MiB).</summary>
    public const long CublasWorkspaceBytes = 32L << 20;

    private readonly CudaStreamHandle _stream;
    private readonly CublasHandle _cublas;
    private readonly CudaBuffer? _cublasWorkspace;

    public int Ordinal { get; }
    /// <summary>Compute capability as major * 10 + minor (90 for sm_90).</summary>
    public int ComputeCapability { get; }
    public int MultiProcessorCount { get; }
    public long TotalMemoryBytes { get; }
    /// <summary>CUDA version the driver supports and of the runtime library loaded, as 1000 * major + 10 * minor.</summary>
    public int DriverVersion { get; }
    public int RuntimeVersion { get; }

    public nint Stream => _stream.DangerousGetHandle();
    internal nint Cublas => _cublas.DangerousGetHandle();

    /// <summary>"CUDA device 0: sm_90, 132 SMs, 139.8 GiB, driver CUDA 12.4, runtime CUDA 12.4".</summary>
    public string Description =>
        $"CUDA device {Ordinal}: sm_{ComputeCapability}, {MultiProcessorCount} SMs, {TotalMemoryBytes / (double)(1L << 30):F1} GiB, " +
        $"driver CUDA {FormatVersion(DriverVersion)}, runtime CUDA {FormatVersion(RuntimeVersion)}";

    private CudaDevice(int ordinal, int cc, int sms, long total, int driver, int runtime)
    {
        Ordinal = ordinal;
        ComputeCapability = cc;
        MultiProcessorCount = sms;
        TotalMemoryBytes = total;
        DriverVersion = driver;
        RuntimeVersion = runtime;
        _stream = new CudaStreamHandle();
        _cublas = new CublasHandle();
        try
        {
            MakeCurrent();
            nint stream = 0;
            CudaException.Check(CudaRuntimeNative.StreamCreateWithFlags(&stream, CudaRuntimeNative.StreamNonBlocking), "cudaStreamCreateWithFlags");
            _stream.Set(stream);
            nint handle = 0;
            CudaException.CheckCublas(CublasNative.Create(&handle), "cublasCreate");
            _cublas.Set(handle);
            CudaException.CheckCublas(CublasNative.SetStream(handle, stream), "cublasSetStream");
            // Pedantic math: fp32 gemms stay fp32 (no TF32), so results match the CPU engine within 1e-5.
            CudaException.CheckCublas(CublasNative.SetMathMode(handle, CublasNative.PedanticMath), "cublasSetMathMode");
            if (CudaLibraries.CublasHasExport("cublasSetWorkspace_v2"))
            {
                _cublasWorkspace = new CudaBuffer(this, CublasWorkspaceBytes);
                CudaException.CheckCublas(CublasNative.SetWorkspace(handle, _cublasWorkspace.Pointer, (nuint)CublasWorkspaceBytes), "cublasSetWorkspace");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens GPU <paramref name="ordinal"/> (after CUDA_VISIBLE_DEVICES), or returns null with the reason it cannot.
    /// </summary>
    public static CudaDevice? TryCreate(out string reason, int ordinal = 0)
    {
        try
        {
            return Create(ordinal, out reason);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CudaException)
        {
            // An incomplete or foreign library (a missing export, a wrong architecture) or a runtime failure while
            // setting up: the backend is unusable, which is a reason, not a crash.
            reason = e is CudaException ? e.Message : $"CUDA libraries unusable: {e.GetType().Name}: {e.Message}";
            return null;
        }
    }

    private static CudaDevice? Create(int ordinal, out string reason)
    {
        if (!CudaLibraries.TryLoad(out reason)) return null;
        int driver = 0, runtime = 0, count = 0;
        // The driver first: without one, the runtime's own calls fail with less helpful errors.
        int rc = CudaRuntimeNative.DriverGetVersion(&driver);
        if (rc != CudaRuntimeNative.Success || driver == 0)
        {
            reason = "no NVIDIA driver is installed (libcuda.so.1 not found)";
            return null;
        }
        CudaRuntimeNative.RuntimeGetVersion(&runtime);
        rc = CudaRuntimeNative.GetDeviceCount(&count);
        if (rc == CudaRuntimeNative.ErrorInsufficientDriver || (rc == CudaRuntimeNative.Success && driver < runtime && count == 0))
        {
            reason = $"the NVIDIA driver supports CUDA {FormatVersion(driver)} but {CudaLibraries.CudartPath} is CUDA {FormatVersion(runtime)}: update the driver";
            return null;
        }
        if (rc == CudaRuntimeNative.ErrorNoDevice || (rc == CudaRuntimeNative.Success && count == 0))
        {
            reason = "no CUDA device is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)";
            return null;
        }
        if (rc != CudaRuntimeNative.Success)
        {
            reason = $"cudaGetDeviceCount failed: {CudaRuntimeNative.Describe(rc)}";
            return null;
        }
        if (ordinal < 0 || ordinal >= count)
        {
            reason = $"CUDA device {ordinal} does not exist ({count} visible)";
            return null;
        }
        CudaException.Check(CudaRuntimeNative.SetDevice(ordinal), $"cudaSetDevice({ordinal})");
        int major = 0, minor = 0, sms = 0;
        CudaException.Check(CudaRuntimeNative.DeviceGetAttribute(&major, CudaRuntimeNative.AttrComputeCapabilityMajor, ordinal), "cudaDeviceGetAttribute");
        CudaException.Check(CudaRuntimeNative.DeviceGetAttribute(&minor, CudaRuntimeNative.AttrComputeCapabilityMinor, ordinal), "cudaDeviceGetAttribute");
        CudaException.Check(CudaRuntimeNative.DeviceGetAttribute(&sms, CudaRuntimeNative.AttrMultiProcessorCount, ordinal), "cudaDeviceGetAttribute");
        int cc = major * 10 + minor;
        if (cc < MinComputeCapability)
        {
            reason = $"CUDA device {ordinal} is sm_{cc}; libvalle_kernels needs sm_{MinComputeCapability} (Ampere) or newer";
            return null;
        }
        nuint free = 0, total = 0;
        CudaException.Check(CudaRuntimeNative.MemGetInfo(&free, &total), "cudaMemGetInfo");
        reason = "";
        return new CudaDevice(ordinal, cc, sms, (long)total, driver, runtime);
    }

    /// <summary>
    /// Selects this GPU for the calling thread, in the host's CUDA runtime and in libvalle_kernels' own (statically
    /// linked) one. Call it first on any thread other than the one that created the device.
    /// </summary>
    public void MakeCurrent()
    {
        CudaException.Check(CudaRuntimeNative.SetDevice(Ordinal), $"cudaSetDevice({Ordinal})");
        CudaException.Check(ValleKernelsNative.SetDevice(Ordinal), $"valle_set_device({Ordinal})");
    }

    /// <summary>Free and total device memory now (cudaMemGetInfo).</summary>
    public (long Free, long Total) MemoryInfo()
    {
        nuint free = 0, total = 0;
        CudaException.Check(CudaRuntimeNative.MemGetInfo(&free, &total), "cudaMemGetInfo");
        return ((long)free, (long)total);
    }

    public CudaBuffer Allocate(long bytes) => new(this, bytes);

    public CudaBuffer Allocate<T>(long count) where T : unmanaged => new(this, checked(count * sizeof(T)));

    /// <summary>A buffer holding a copy of <paramref name="values"/>.</summary>
    public CudaBuffer Upload<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var buffer = Allocate<T>(values.Length);
        try
        {
            buffer.Upload(values);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Waits for everything enqueued on <see cref="Stream"/>; surfaces asynchronous kernel faults.</summary>
    public void Synchronize() => CudaException.Check(CudaRuntimeNative.StreamSynchronize(Stream), "cudaStreamSynchronize");

    internal static string FormatVersion(int v) => $"{v / 1000}.{v % 1000 / 10}";

    public void Dispose()
    {
        _cublas.Dispose();
        _cublasWorkspace?.Dispose();
        _stream.Dispose();
    }
}
