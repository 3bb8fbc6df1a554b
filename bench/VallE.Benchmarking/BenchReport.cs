using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VallE.Weights;

namespace VallE.Benchmarking;

/// <summary>Everything one bench run measured, printed as a table or as JSON.</summary>
internal sealed record BenchReport
{
    public required string Preset { get; init; }
    public required string Checkpoint { get; init; }
    public required ModelConfig Config { get; init; }
    public required string WeightsDType { get; init; }
    public required int Threads { get; init; }
    public required int TextTokens { get; init; }
    public required int PromptFrames { get; init; }
    public required int Frames { get; init; }
    public required string Machine { get; init; }
    public required double LoadSeconds { get; init; }
    public required BenchMeasurement Engine { get; init; }
    public required IReadOnlyList<BenchMeasurement> References { get; init; }
    /// <summary>Per reference: the first frame where its codes differ from the engine's (null: identical).</summary>
    public required IReadOnlyList<int?> FirstDifferentFrame { get; init; }
    public required DecodeFloor? Floor { get; init; }
    public string? TorchSkipped { get; init; }

    private static string F(double v, int digits = 1) => v.ToString("F" + digits, CultureInfo.InvariantCulture);

    /// <summary>The table; <paramref name="rich"/> draws it with Spectre.Console (a terminal), else plain columns.</summary>
    public void WriteTable(TextWriter output, bool rich)
    {
        var rows = new List<string[]>();
        foreach (var m in new[] { Engine }.Concat(References))
        {
            double speedup = Engine.TotalMs > 0 ? m.TotalMs / Engine.TotalMs : 0;
            rows.Add([m.Name, F(m.ArMsPerToken, 2), F(m.DecodeMsPerStep, 2), F(m.FirstStepMs), F(m.NarMs), F(m.TotalMs),
                F(m.RealTimeFactor, 3), ReferenceEquals(m, Engine) ? "1.0x" : F(speedup) + "x"]);
        }
        string[] header = ["implementation", "AR ms/token", "decode ms/step", "prefill ms", "NAR ms", "total ms", "RTF",
            "engine speedup"];
        string title = $"{Preset}: d={Config.DModel} heads={Config.NHead} layers={Config.NumLayers}, {WeightsDType}, " +
            $"{Threads} threads; text {TextTokens} tokens, prompt {PromptFrames} frames, {Frames} generated frames " +
            $"({F(Frames / (double)VallE.Runtime.Codec.EncodecContract.FramesPerSecond, 2)} s audio)";

        if (rich)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
            var table = new Table().Title(Markup.Escape(title));
            foreach (string h in header) table.AddColumn(new TableColumn(h).RightAligned());
            table.Columns[0].LeftAligned();
            foreach (var r in rows) table.AddRow(r.Select(Markup.Escape).ToArray());
            console.Write(table);
        }
        else
        {
            output.WriteLine(title);
            int[] widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
            output.WriteLine(string.Join("  ", header.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))));
            foreach (var r in rows)
                output.WriteLine(string.Join("  ", r.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))));
        }

        foreach (var line in Notes()) output.WriteLine(line);
    }

    private IEnumerable<string> Notes()
    {
        if (Floor is { } f)
            yield return $"AR decode step floor: {F(f.WeightBytesPerStep / 1e6)} MB of weights / {F(f.BandwidthGBps)} GB/s = " +
                $"{F(f.FloorMs, 2)} ms; engine {F(Engine.DecodeMsPerStep, 2)} ms = {F(Engine.DecodeMsPerStep / f.FloorMs, 2)}x the floor " +
                $"(KV cache adds {F(f.KvBytesPerStepAtEnd / 1e6)} MB/step by the last frame)";
        for (int i = 0; i < References.Count; i++)
            yield return FirstDifferentFrame[i] is { } frame
                ? $"codes vs {References[i].Name}: differ from frame {frame} (greedy on random weights: near-ties flip)"
                : $"codes vs {References[i].Name}: identical";
        if (TorchSkipped is { } why) yield return $"PyTorch references skipped: {why}";
        yield return $"machine: {Machine}; model load {F(LoadSeconds, 2)} s (not in the totals)";
    }

    public void WriteJson(TextWriter output)
    {
        JsonObject Row(BenchMeasurement m) => new()
        {
            ["name"] = m.Name,
            ["frames"] = m.Frames,
            ["ar_ms"] = m.ArMs,
            ["ar_ms_per_token"] = m.ArMsPerToken,
            ["prefill_ms"] = m.FirstStepMs,
            ["decode_ms_per_step"] = m.DecodeMsPerStep,
            ["decode_ms_median"] = m.DecodeMsMedian,
            ["nar_ms"] = m.NarMs,
            ["total_ms"] = m.TotalMs,
            ["audio_seconds"] = m.AudioSeconds,
            ["rtf"] = m.RealTimeFactor,
            ["engine_speedup"] = Engine.TotalMs > 0 ? m.TotalMs / Engine.TotalMs : 0,
        };
        var references = new JsonArray();
        for (int i = 0; i < References.Count; i++)
        {
            var row = Row(References[i]);
            row["codes_first_different_frame"] = FirstDifferentFrame[i];
            references.Add(row);
        }
        var json = new JsonObject
        {
            ["preset"] = Preset,
            ["checkpoint"] = Checkpoint,
            ["model"] = new JsonObject
            {
                ["d_model"] = Config.DModel, ["nhead"] = Config.NHead, ["layers"] = Config.NumLayers,
                ["family"] = Config.Family.ToString(),
            },
            ["weights_dtype"] = WeightsDType,
            ["threads"] = Threads,
            ["text_tokens"] = TextTokens,
            ["prompt_frames"] = PromptFrames,
            ["frames"] = Frames,
            ["machine"] = Machine,
            ["load_seconds"] = LoadSeconds,
            ["engine"] = Row(Engine),
            ["references"] = references,
            ["floor"] = Floor is { } f
                ? new JsonObject
                {
                    ["weight_bytes_per_step"] = f.WeightBytesPerStep,
                    ["kv_bytes_per_step_at_end"] = f.KvBytesPerStepAtEnd,
                    ["bandwidth_gbps"] = f.BandwidthGBps,
                    ["floor_ms"] = f.FloorMs,
                    ["engine_vs_floor"] = f.FloorMs > 0 ? Engine.DecodeMsPerStep / f.FloorMs : 0,
                }
                : null,
            ["torch_skipped"] = TorchSkipped,
        };
        output.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
