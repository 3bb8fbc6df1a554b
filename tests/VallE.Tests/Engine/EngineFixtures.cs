using System.Text.Json;
using VallE.Runtime.Codec;
using VallE.Runtime.Models;
using VallE.Tests.Support;
using VallE.Weights;
using VallE.Weights.NumPy;

namespace VallE.Tests.Engine;

/// <summary>
/// The golden fixtures of shared/fixtures/valle/NAME and their models, loaded once per test run.
/// Checkpoints are opened with ModelCheckpoint.Open exactly as a user's file would be.
/// </summary>
public sealed class Fixture
{
    public required string Name { get; init; }
    public required string Dir { get; init; }
    public required JsonElement Meta { get; init; }
    public required ModelCheckpoint Checkpoint { get; init; }
    public required ValleModel Model { get; init; }

    public long[] TextTokens => Npy.Read(File("text_tokens.npy")).ToInt64();
    public AudioCodes PromptCodes => Codes("prompt_codes.npy");
    public int EnrollTokens => Meta.GetProperty("enroll_x_lens").GetInt32();
    public bool IsVallEX => Meta.GetProperty("implementation").GetString() == "vallex";
    public string? PromptLanguage => Meta.TryGetProperty("prompt_language", out var v) ? v.GetString() : null;
    public string? TextLanguage => Meta.TryGetProperty("text_language", out var v) ? v.GetString() : null;

    public string File(string name) => Path.Combine(Dir, name);

    public AudioCodes Codes(string name) => ToCodes(Npy.Read(File(name)));

    public GenerationRequest Request(Runtime.Sampling.SamplingOptions? sampling = null) => new()
    {
        TextTokens = TextTokens,
        PromptCodes = PromptCodes,
        EnrollTokens = EnrollTokens,
        PromptLanguage = PromptLanguage,
        TextLanguage = TextLanguage,
        Sampling = sampling ?? new Runtime.Sampling.SamplingOptions { TopK = 1 },
    };

    /// <summary>A 2-D <c>[frames, codebooks]</c> codes array.</summary>
    public static AudioCodes ToCodes(NpyArray a) => new(a.ToInt64(), (int)a.Shape[0], (int)a.Shape[1]);

    private static readonly Dictionary<string, Fixture> Cache = new();

    public static Fixture Get(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var f)) return f;
            string dir = TestPaths.RequireShared("valle", name);
            var meta = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(dir, "meta.json"))).RootElement;
            // VALL-E X files carry no hyper-parameters: the fixture's nhead (4, not VALL-E X's default 16) comes from
            // meta.json, as a user would pass --nhead.
            var ctor = meta.GetProperty("constructor");
            var checkpoint = ModelCheckpoint.Open(Path.Combine(dir, "checkpoint.pt"), new ConfigOverrides
            {
                NHead = ctor.GetProperty("nhead").GetInt32(),
                PrefixMode = ctor.GetProperty("prefix_mode").GetInt32(),
            });
            f = new Fixture
            {
                Name = name, Dir = dir, Meta = meta, Checkpoint = checkpoint,
                Model = ValleModel.Load(checkpoint, new EngineOptions { Threads = 1 }),
            };
            Cache[name] = f;
            return f;
        }
    }

    public static readonly string[] Names = ["valle-tiny", "vallex-tiny"];
}
