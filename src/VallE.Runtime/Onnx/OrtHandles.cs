using System.Runtime.InteropServices;

namespace VallE.Runtime.Onnx;

/// <summary>
/// Owns one ONNX Runtime object and releases it with its <c>Release*</c> function exactly once, also when an
/// exception or the finalizer gets there first. One class per release function, so a handle can never be released
/// with the wrong one.
/// </summary>
internal abstract unsafe class OrtHandle : SafeHandle
{
    private readonly int _releaseIndex;

    protected OrtHandle(int releaseIndex) : base(0, ownsHandle: true) => _releaseIndex = releaseIndex;

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of a pointer an ORT call returned.</summary>
    public void Own(nint pointer) => SetHandle(pointer);

    protected override bool ReleaseHandle()
    {
        ((delegate* unmanaged<nint, void>)OrtLibrary.Api[_releaseIndex])(handle);
        return true;
    }
}

internal sealed class OrtEnvHandle() : OrtHandle(OrtNative.ReleaseEnv);
internal sealed class OrtStatusHandle() : OrtHandle(OrtNative.ReleaseStatus);
internal sealed class OrtMemoryInfoHandle() : OrtHandle(OrtNative.ReleaseMemoryInfo);
internal sealed class OrtSessionHandle() : OrtHandle(OrtNative.ReleaseSession);
internal sealed class OrtSessionOptionsHandle() : OrtHandle(OrtNative.ReleaseSessionOptions);
internal sealed class OrtValueHandle() : OrtHandle(OrtNative.ReleaseValue);
internal sealed class OrtRunOptionsHandle() : OrtHandle(OrtNative.ReleaseRunOptions);
internal sealed class OrtTypeInfoHandle() : OrtHandle(OrtNative.ReleaseTypeInfo);
internal sealed class OrtTensorInfoHandle() : OrtHandle(OrtNative.ReleaseTensorTypeAndShapeInfo);
