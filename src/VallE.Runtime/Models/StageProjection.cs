using VallE.Runtime.Cpu;

namespace VallE.Runtime.Models;

/// <summary>
/// AdaptiveLayerNorm's per-stage <c>[scale | shift] = project_layer(stage embedding)</c>, computed once at load for
/// every NAR stage. Both backends use these exact values (float32 through the CPU linear kernel, as upstream's
/// float32 Linear), so the CPU engine and the CUDA loader cannot drift apart in how they condition a stage.
/// </summary>
internal static class StageProjection
{
    /// <param name="weight">project_layer.weight <c>[2 dim, dim]</c>.</param>
    /// <param name="bias">project_layer.bias <c>[2 dim]</c>.</param>
    /// <returns>per stage, <c>2 dim</c> values: the scale then the shift.</returns>
    public static float[][] Compute(CpuBackend backend, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int dim, float[][] stageEmbeddings)
    {
        var project = LinearWeights.Create(weight, bias, 2 * dim, dim, WeightsDType.F32);
        var result = new float[stageEmbeddings.Length][];
        for (int s = 0; s < stageEmbeddings.Length; s++)
        {
            result[s] = new float[2 * dim];
            project.Forward(backend, stageEmbeddings[s], 1, result[s]);
        }
        return result;
    }
}
