// A/B harness (tools/ab-engine, not in VallE.sln): the `valle bench --preset small` shape (512 wide, 8 heads, 6 layers,
// text 60, prompt 225, 150 greedy frames) on a random-weight in-memory checkpoint, timed with the public API only,
// so the same binary runs against the before and after VallE.Runtime.dll.
using System.Diagnostics;
using System.Runtime.InteropServices;
using VallE.Runtime.Models;
using VallE.Runtime.Sampling;
using VallE.Weights;

int threads = int.Parse(args[0]);
int runs = int.Parse(args[1]);
string label = args[2];
var config = new ModelConfig
{
    Family = ModelFamily.Valle, DModel = 512, NHead = 8, NumLayers = 6, NarDModel = 512, NarNHead = 8, NarNumLayers = 6,
    PrefixMode = 1, TextVocab = 512,
};
ValleModel model;
using (var ckpt = RandomCheckpoint(config, 1)) model = ValleModel.Load(ckpt, new EngineOptions { Threads = threads });
var rng = new Random(5);
var text = new long[60];
for (int i = 0; i < text.Length; i++) text[i] = rng.Next(3, 512);
text[0] = 1; text[^1] = 2;
var prompt = new long[225, 8];
for (int t = 0; t < 225; t++) for (int q = 0; q < 8; q++) prompt[t, q] = rng.Next(0, 1024);
var request = new GenerationRequest { TextTokens = text, PromptCodes = prompt, Sampling = new SamplingOptions { TopK = 1 }, MaxFrames = 150 };
model.Generate(request); // warm-up (JIT tiering)
var ar = new List<double>(); var nar = new List<double>(); var total = new List<double>();
int frames = 0; long hash = 0;
for (int r = 0; r < runs; r++)
{
    long t0 = Stopwatch.GetTimestamp();
    var res = model.Generate(request);
    total.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    ar.Add(res.ArMillisecondsPerToken); nar.Add(res.NarMilliseconds);
    frames = res.Frames;
    hash = 0; foreach (var c in res.Codes) hash = hash * 31 + c;
}
double Med(List<double> v) { var s = v.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
Console.WriteLine($"{label} threads={threads} frames={frames} codes#={hash:x} ar_ms_per_token={Med(ar):F3} nar_ms={Med(nar):F1} total_ms={Med(total):F1} (median of {runs}; min total {total.Min():F1})");
// no Dispose: the before build has none; the process exits

static ModelCheckpoint RandomCheckpoint(ModelConfig config, int seed)
{
    var rng = new Random(seed);
    var tensors = new Dictionary<string, TensorData>();
    foreach (var e in ModelLayout.Expected(config))
    {
        long n = e.Shape.Aggregate(1L, (a, b) => a * b);
        var strides = new long[e.Shape.Length];
        long stride = 1;
        for (int d = e.Shape.Length - 1; d >= 0; d--) { strides[d] = stride; stride *= e.Shape[d]; }
        if (e.IsInteger)
        {
            tensors[e.Name] = new TensorData(e.Name, DType.Int64, e.Shape, strides, 0, new ArrayTensorStorage(e.Name, DType.Int64, new byte[n * 8]));
            continue;
        }
        float scale = e.Shape.Length == 2 ? 1f / MathF.Sqrt(e.Shape[1]) : 0.1f;
        var values = new float[n];
        for (long i = 0; i < n; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale + (e.Name.EndsWith("running_var") ? 1.5f : 0f);
        tensors[e.Name] = new TensorData(e.Name, DType.Float32, e.Shape, strides, 0,
            new ArrayTensorStorage(e.Name, DType.Float32, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
    }
    return new ModelCheckpoint(config, new Dictionary<string, ConfigSource>(), tensors, "random", "memory", DType.Float32, [], null);
}
