using BenchmarkDotNet.Attributes;
using VallE.Runtime.Cuda;
using VallE.Runtime.Cuda.Model;

namespace VallE.Bench.Cuda;

/// <summary>
/// One AR decode step of a VALL-E-sized decoder (12 layers, d_model 1024, 16 heads, random fp32 weights) on the
/// GPU, at a KV length of <see cref="Length"/>: eager launches vs one CUDA graph replay. Each invocation waits for
/// the GPU, so the time is the step's latency. The floor is the weight + KV bytes read per step divided by the
/// GPU's memory bandwidth (~604 MB of fp32 weights: ~0.13 ms on an H200's 4.8 TB/s).
/// Needs a GPU: without one GlobalSetup fails with the probe's reason.
/// Run: <c>dotnet run -c Release --project bench/VallE.Bench -- --filter '*CudaDecodeStep*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CudaDecodeStepBenchmark
{
    private const int Layers = 12, Dim = 1024, Heads = 16, FeedForward = 4096, Capacity = 2048;

    [Params(256, 1500)]
    public int Length { get; set; }

    private CudaDevice _device = null!;
    private CudaDecoderStack _stack = null!;
    private CudaBuffer _x = null!, _positions = null!, _lengths = null!;
    private CudaGraph _graph = null!;

    [GlobalSetup]
    public void Setup()
    {
        _device = CudaDevice.TryCreate(out string reason) ?? throw new InvalidOperationException($"no CUDA device: {reason}");
        var weights = new Dictionary<string, float[]>();
        var rng = new Random(1);
        float[] Rand(int n, float scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale; return a; }
        for (int l = 0; l < Layers; l++)
        {
            string p = $"ar_decoder.layers.{l}";
            weights[p + ".self_attn.in_proj_weight"] = Rand(3 * Dim * Dim, 0.03f);
            weights[p + ".self_attn.in_proj_bias"] = Rand(3 * Dim, 0.01f);
            weights[p + ".self_attn.out_proj.weight"] = Rand(Dim * Dim, 0.03f);
            weights[p + ".self_attn.out_proj.bias"] = Rand(Dim, 0.01f);
            weights[p + ".linear1.weight"] = Rand(FeedForward * Dim, 0.03f);
            weights[p + ".linear1.bias"] = Rand(FeedForward, 0.01f);
            weights[p + ".linear2.weight"] = Rand(Dim * FeedForward, 0.015f);
            weights[p + ".linear2.bias"] = Rand(Dim, 0.01f);
            foreach (string n in new[] { ".norm1", ".norm2" })
            {
                weights[p + n + ".weight"] = Enumerable.Repeat(1f, Dim).ToArray();
                weights[p + n + ".bias"] = new float[Dim];
            }
        }
        weights["ar_decoder.norm.weight"] = Enumerable.Repeat(1f, Dim).ToArray();
        weights["ar_decoder.norm.bias"] = new float[Dim];
        _stack = new CudaDecoderStack(_device, new DictionaryWeightSource(weights), "ar_decoder", Layers, Dim, Heads, FeedForward,
            true, 1e-5f, null, maxRows: 1, batch: 1, kvCapacity: Capacity);
        _x = _device.Upload<float>(Rand(Dim, 1f));
        _positions = _device.Upload<int>([Length - 1]);
        _lengths = _device.Upload<int>([Length]);
        _graph = CudaGraph.Capture(_device, () => _stack.DecodeStep(_x.Pointer, _positions.Pointer, _lengths.Pointer));
    }

    [Benchmark(Baseline = true)]
    public void Eager()
    {
        _stack.DecodeStep(_x.Pointer, _positions.Pointer, _lengths.Pointer);
        _device.Synchronize();
    }

    [Benchmark]
    public void Graph()
    {
        _graph.Launch();
        _device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _graph?.Dispose();
        _x?.Dispose();
        _positions?.Dispose();
        _lengths?.Dispose();
        _stack?.Dispose();
        _device?.Dispose();
    }
}
