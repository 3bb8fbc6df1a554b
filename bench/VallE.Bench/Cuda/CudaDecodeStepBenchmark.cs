using BenchmarkDotNet.Attributes;
using VallE.Runtime.Backends;
using VallE.Runtime.Cpu;
using VallE.Runtime.Cuda;
using VallE.Runtime.Models;

namespace VallE.Bench.Cuda;

/// <summary>
/// One AR decode step of a VALL-E-sized decoder (12 layers, d_model 1024, 16 heads, random fp32 weights) on the
/// GPU through the model's own <see cref="Transformer.Decode"/> over <see cref="CudaComputeBackend"/>, at a KV length
/// of <see cref="Length"/>: eager launches vs one recorded step (<see cref="IStepGraph"/>, a CUDA graph). Each
/// invocation waits for the GPU, so the time is the step's latency. The floor is the weight + KV bytes read per step
/// divided by the GPU's memory bandwidth (~604 MB of fp32 weights: ~0.13 ms on an H200's 4.8 TB/s).
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
    private CudaComputeBackend _backend = null!;
    private DecoderWeights _weights = null!;
    private DeviceKvCache _cache = null!;
    private DecoderScratch _scratch = null!;
    private Tensor _x = null!, _lengths = null!;
    private IStepGraph _graph = null!;
    private Action _step = null!;

    [GlobalSetup]
    public void Setup()
    {
        _device = CudaDevice.TryCreate(out string reason) ?? throw new InvalidOperationException($"no CUDA device: {reason}");
        _backend = new CudaComputeBackend(_device, ownsDevice: false);
        var b = _backend;
        var rng = new Random(1);
        float[] Rand(int n, float scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale; return a; }
        DeviceNorm Norm(string name) => b.CreateNorm(name, Enumerable.Repeat(1f, Dim).ToArray(), new float[Dim], 1e-5f, null);
        var layers = new LayerWeights[Layers];
        for (int l = 0; l < Layers; l++)
        {
            string p = $"ar_decoder.layers.{l}";
            layers[l] = new LayerWeights(
                b.CreateLinear(p + ".self_attn.in_proj", Rand(3 * Dim * Dim, 0.03f), Rand(3 * Dim, 0.01f), 3 * Dim, Dim, WeightsDType.F32),
                b.CreateLinear(p + ".self_attn.out_proj", Rand(Dim * Dim, 0.03f), Rand(Dim, 0.01f), Dim, Dim, WeightsDType.F32),
                b.CreateLinear(p + ".linear1", Rand(FeedForward * Dim, 0.03f), Rand(FeedForward, 0.01f), FeedForward, Dim, WeightsDType.F32),
                b.CreateLinear(p + ".linear2", Rand(Dim * FeedForward, 0.015f), Rand(Dim, 0.01f), Dim, FeedForward, WeightsDType.F32),
                Norm(p + ".norm1"), Norm(p + ".norm2"));
        }
        _weights = new DecoderWeights(layers, Norm("ar_decoder.norm"), Dim, Heads, NormFirst: true);
        _cache = b.CreateKvCache("ar_decoder", 1, Layers, Capacity, Dim, keepsHistory: true);
        _scratch = new DecoderScratch(b, 1, Dim, FeedForward);
        _x = b.Allocate(TensorType.F32, 1, Dim);
        b.Write(_x.All, Rand(Dim, 1f));
        _lengths = b.Allocate(TensorType.I32, 1, 1);
        b.Write(_lengths.All, [Length]);
        _graph = b.CreateStepGraph();
        // The lengths stay put (no Increment), so every replay is the same step at the same length.
        _step = () => Transformer.Decode(b, _weights, _cache, _x.All, [0], _lengths.All, _scratch, CancellationToken.None);
    }

    [Benchmark(Baseline = true)]
    public void Eager()
    {
        _step();
        _device.Synchronize();
    }

    [Benchmark]
    public void Graph()
    {
        _graph.Run(1, _step);
        _device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _graph?.Dispose();
        _x?.Dispose();
        _lengths?.Dispose();
        _scratch?.Dispose();
        _cache?.Dispose();
        if (_weights is not null)
            foreach (var l in _weights.Layers)
                foreach (var o in new DeviceObject[] { l.InProj, l.OutProj, l.Linear1, l.Linear2, l.Norm1, l.Norm2 }) o.Dispose();
        _backend?.Dispose();
        _device?.Dispose();
    }
}
