using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using VallE.Weights;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle inspect CKPT [--json] [--tensors] [--nhead N] [--prefix-mode M]</c>: a checkpoint's family, resolved
/// hyper-parameters (with where each came from), parameter count and dtype. --json prints one JSON object whose
/// keys are a contract for scripts: family, d_model, nhead, num_layers, nar_d_model, nar_nhead, nar_num_layers,
/// scale_factor, norm_first, add_prenet, prefix_mode, prepend_bos, share_embedding, num_quantizers, text_vocab,
/// audio_vocab, num_languages, parameters, source_dtype, source_format, tensors, tied, sources, overrides; for a
/// converted folder also converted_from and original_sources (the sources at first conversion).
/// </summary>
internal static class InspectCommand
{
    public static Command Create(CliContext ctx)
    {
        var pathArg = new Argument<string>("CKPT") { Description = "A .pt checkpoint, a converted folder, or a .safetensors file with config.json beside it." };
        var jsonOpt = new Option<bool>("--json") { Description = "Print one JSON object." };
        var tensorsOpt = new Option<bool>("--tensors") { Description = "Also list every tensor (name, dtype, shape)." };
        var options = new CheckpointOptions();

        var command = new Command("inspect", "Show a checkpoint's family, hyper-parameters and tensors.");
        command.Arguments.Add(pathArg);
        command.Options.Add(jsonOpt);
        command.Options.Add(tensorsOpt);
        options.AddTo(command);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            var overrides = options.Read(parse);
            using var checkpoint = CheckpointOptions.Open(ctx, parse.GetValue(pathArg)!, overrides);
            bool tensors = parse.GetValue(tensorsOpt);
            if (parse.GetValue(jsonOpt)) ctx.Out.WriteLine(ToJson(checkpoint, tensors).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else WriteText(ctx.Out, checkpoint, tensors);
            return ExitCodes.Success;
        }));
        return command;
    }

    internal static JsonObject ToJson(ModelCheckpoint checkpoint, bool listTensors)
    {
        if (checkpoint.Config.Ecker is { } ecker) return EckerJson(checkpoint, ecker, listTensors);
        var json = new JsonObject();
        foreach (var (name, value) in ConvertedConfig.Values(checkpoint.Config)) json[name] = ConvertedConfig.ValueNode(value);
        json["parameters"] = checkpoint.ParameterCount;
        json["source_dtype"] = checkpoint.SourceDType.ShortName();
        json["source_format"] = checkpoint.SourceFormat;
        json["tensors"] = checkpoint.Tensors.Count;
        var tied = new JsonObject();
        foreach (var (alias, target) in checkpoint.TiedTensors) tied[alias] = target;
        json["tied"] = tied;
        var sources = new JsonObject();
        foreach (string name in ConfigResolver.Names)
            if (checkpoint.Sources.TryGetValue(name, out var s)) sources[name] = ConvertedConfig.SourceName(s);
        json["sources"] = sources;
        if (checkpoint.RecordedOrigin is var (file, format, dtype))
        {
            json["converted_from"] = new JsonObject { ["file"] = file, ["format"] = format, ["dtype"] = dtype.ShortName() };
            if (checkpoint.RecordedSources is { } recorded)
            {
                var original = new JsonObject();
                foreach (string name in ConfigResolver.Names)
                    if (recorded.TryGetValue(name, out var s)) original[name] = ConvertedConfig.SourceName(s);
                json["original_sources"] = original;
            }
        }
        json["overrides"] = new JsonArray(checkpoint.OverrideNotes.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
        if (listTensors) json["tensor_list"] = TensorList(checkpoint);
        return json;
    }

    /// <summary>
    /// An e-c-k-e-r/vall-e model: family "ecker" and its own hyper-parameters (upstream's config names: dim, heads,
    /// layers, ffn, levels, audio_tokens, phoneme_tokens, text_tokens, langs, tones, tasks, version, capabilities,
    /// noncausal_masks, unified_position_ids, audio_embedding_sums, split_classifiers, classifiers), then the same
    /// parameters, source_dtype, source_format, tensors keys as every family.
    /// </summary>
    private static JsonObject EckerJson(ModelCheckpoint checkpoint, EckerConfig e, bool listTensors)
    {
        static JsonArray Strings(IEnumerable<string> items) => new(items.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        var json = new JsonObject
        {
            ["family"] = "ecker",
            ["name"] = e.Name,
            ["version"] = e.Version,
            ["arch_type"] = e.ArchType,
            ["dim"] = e.Dim,
            ["heads"] = e.Heads,
            ["layers"] = e.Layers,
            ["ffn"] = e.Ffn,
            ["levels"] = e.Levels,
            ["audio_tokens"] = e.AudioTokens,
            ["phoneme_tokens"] = e.PhonemeTokens,
            ["text_tokens"] = e.TextTokens,
            ["langs"] = e.Langs,
            ["tones"] = e.Tones,
            ["tasks"] = e.Tasks,
            ["capabilities"] = Strings(e.DistinctCapabilities),
            ["noncausal_masks"] = e.NoncausalMasks,
            ["unified_position_ids"] = e.UnifiedPositionIds,
            ["audio_embedding_sums"] = e.AudioEmbeddingSums,
            ["split_classifiers"] = e.SplitClassifiers,
            ["classifiers"] = Strings(e.ClassifierNames),
            ["parameters"] = checkpoint.ParameterCount,
            ["source_dtype"] = checkpoint.SourceDType.ShortName(),
            ["source_format"] = checkpoint.SourceFormat,
            ["tensors"] = checkpoint.Tensors.Count,
        };
        if (checkpoint.RecordedOrigin is var (file, format, dtype))
            json["converted_from"] = new JsonObject { ["file"] = file, ["format"] = format, ["dtype"] = dtype.ShortName() };
        if (listTensors) json["tensor_list"] = TensorList(checkpoint);
        return json;
    }

    private static JsonArray TensorList(ModelCheckpoint checkpoint)
    {
        var list = new JsonArray();
        foreach (var (name, t) in checkpoint.Tensors)
            list.Add(new JsonObject { ["name"] = name, ["dtype"] = t.DType.ShortName(), ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()) });
        return list;
    }

    private static void WriteText(TextWriter o, ModelCheckpoint checkpoint, bool listTensors)
    {
        var c = checkpoint.Config;
        if (c.Ecker is not null)
        {
            o.WriteLine($"{checkpoint.SourcePath}  ({checkpoint.SourceFormat}, {checkpoint.SourceDType.ShortName()})");
            o.WriteLine($"  ecker: {checkpoint.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters, {checkpoint.Tensors.Count} tensors");
            o.WriteLine();
            foreach (var (name, value) in EckerJson(checkpoint, c.Ecker, listTensors: false))
                if (name is not ("family" or "parameters" or "source_dtype" or "source_format" or "tensors"))
                    o.WriteLine($"  {name,-22} {value?.ToJsonString()}");
            if (listTensors)
            {
                o.WriteLine();
                foreach (var (name, t) in checkpoint.Tensors)
                    o.WriteLine($"  {name,-56} {t.DType.ShortName(),-4} [{string.Join(", ", t.Shape)}]");
            }
            return;
        }
        o.WriteLine($"{checkpoint.SourcePath}  ({checkpoint.SourceFormat}, {checkpoint.SourceDType.ShortName()})");
        o.WriteLine($"  {ConfigResolver.FamilyName(c.Family)}: {checkpoint.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters, " +
                    $"{checkpoint.Tensors.Count} tensors ({checkpoint.TiedTensors.Count} tied)");
        o.WriteLine();
        o.WriteLine($"  {"hyper-parameter",-16} {"value",-8} source");
        foreach (var (name, value) in ConvertedConfig.Values(c))
        {
            string shown = value switch
            {
                bool b => b ? "true" : "false",
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
            };
            string source = checkpoint.Sources.TryGetValue(name, out var s) ? ConvertedConfig.SourceName(s) : "";
            o.WriteLine($"  {name,-16} {shown,-8} {source}");
        }
        if (!listTensors) return;
        o.WriteLine();
        foreach (var (name, t) in checkpoint.Tensors)
            o.WriteLine($"  {name,-56} {t.DType.ShortName(),-4} [{string.Join(", ", t.Shape)}]");
    }
}
