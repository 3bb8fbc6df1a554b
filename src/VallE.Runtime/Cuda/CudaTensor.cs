using VallE.Runtime.Backends;

namespace VallE.Runtime.Cuda;

/// <summary>
/// A <see cref="Tensor"/> of <see cref="CudaComputeBackend"/>: one device allocation of <c>Rows · Cols</c> float32
/// or int32 values (both 4 bytes), row-major.
/// </summary>
internal sealed class CudaTensor : Tensor
{
    public const int ElementBytes = 4;

    public CudaTensor(CudaComputeBackend owner, CudaDevice device, TensorType type, int rows, int cols)
        : base(owner, type, rows, cols)
    {
        Buffer = device.Allocate(checked(Elements * ElementBytes));
    }

    public CudaBuffer Buffer { get; }

    /// <summary>Device address of the first element of <paramref name="rows"/> (a view of this tensor).</summary>
    public nint At(TensorRows rows) => Buffer.At<float>(rows.Offset);

    public override void Dispose() => Buffer.Dispose();
}
