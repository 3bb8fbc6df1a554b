using VallE.Runtime.Backends;

namespace VallE.Runtime.Cpu;

/// <summary>A tensor of the CPU backend: a managed array of float or int.</summary>
internal sealed class CpuTensor : Tensor
{
    public CpuTensor(IComputeBackend owner, TensorType type, int rows, int cols) : base(owner, type, rows, cols)
    {
        long n = Math.Max(1, (long)rows * cols);
        if (n > Array.MaxLength) throw new OutOfMemoryException($"a {type}[{rows}, {cols}] tensor exceeds the largest array");
        if (type == TensorType.F32) Floats = new float[n];
        else Ints = new int[n];
    }

    public float[] Floats { get; } = [];
    public int[] Ints { get; } = [];

    public override void Dispose() { }
}
