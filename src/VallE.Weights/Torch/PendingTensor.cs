namespace VallE.Weights.Torch;

/// <summary>
/// A tensor as <c>_rebuild_tensor_v2</c> described it, before it knows its name. The pickle builds tensors
/// before it stores them under their state_dict key, so the view is validated (and a <see cref="TensorData"/>
/// made) only once the loader walks the finished structure and can name it in errors.
/// </summary>
internal sealed class PendingTensor(TensorStorage storage, DType dtype, long offset, long[] shape, long[] strides)
{
    public TensorStorage Storage { get; } = storage;
    public DType DType { get; } = dtype;
    public long Offset { get; } = offset;
    public long[] Shape { get; } = shape;
    public long[] Strides { get; } = strides;

    public override string ToString() => $"tensor({DType.ShortName()}[{string.Join(", ", Shape)}])";
}
