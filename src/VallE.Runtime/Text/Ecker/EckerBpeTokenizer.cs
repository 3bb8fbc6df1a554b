using System.Text;
using System.Text.Json;
using VallE.Weights;

namespace VallE.Runtime.Text.Ecker;

/// <summary>
/// A reader of the Hugging Face <c>tokenizers</c> JSON that e-c-k-e-r/vall-e ships as <c>data/tokenizer.json</c>
/// (loaded upstream with <c>PreTrainedTokenizerFast(tokenizer_file=...)</c>), and its <c>encode</c> with special
/// tokens: a BPE model without normaliser or pre-tokeniser, plus a <c>TemplateProcessing</c> post-processor
/// (<c>&lt;bos&gt; A &lt;eos&gt;</c> = 1 … 2). Only what that file uses is supported; anything else is refused.
/// <para>Semantics reproduced from the Rust <c>tokenizers</c> crate:</para>
/// <list type="bullet">
/// <item>the vocabulary is a JSON object that may repeat a key (the last value wins, as serde's map) and may give
/// several tokens one id (upstream maps e.g. <c>ä</c> and <c>a</c> both to 16);</item>
/// <item>merges are keyed by the <em>ids</em> of their two parts, so a merge written for <c>a ɪ</c> applies to
/// <c>ä ɪ</c> too; a later merge with the same id pair replaces an earlier one; the merged id is the vocabulary
/// id of the concatenated strings;</item>
/// <item>the whole input is one word; each Unicode scalar value starts as one symbol (unknown ones become
/// <c>unk</c>, not fused); the pair with the lowest merge rank, leftmost on ties, is merged until none is left;</item>
/// <item>the added tokens (special, not normalised) are cut out of the input first, longest match leftmost.</item>
/// </list>
/// Immutable and thread-safe once loaded.
/// </summary>
public sealed class EckerBpeTokenizer
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(int, int), (int Rank, int NewId)> _merges;
    private readonly (string Content, int Id)[] _added;
    private readonly int? _unkId;

    /// <summary>Ids the post-processor puts before and after the sequence (upstream: [1] and [2]).</summary>
    public IReadOnlyList<int> Prefix { get; }
    public IReadOnlyList<int> Suffix { get; }

    /// <summary>The vocabulary (token → id) as the tokenizer reads it (duplicate keys resolved).</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    private EckerBpeTokenizer(Dictionary<string, int> vocab, Dictionary<(int, int), (int, int)> merges,
        (string, int)[] added, int? unkId, int[] prefix, int[] suffix)
    {
        _vocab = vocab; _merges = merges; _added = added; _unkId = unkId; Prefix = prefix; Suffix = suffix;
    }

    /// <exception cref="InvalidInputException">The file is missing, not JSON, or uses a feature this reader lacks.</exception>
    public static EckerBpeTokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: tokenizer file not found");
        try
        {
            return Parse(File.ReadAllText(path, Encoding.UTF8), path);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not a tokenizer JSON file ({e.Message})");
        }
    }

    /// <summary>Parses the text of a <c>tokenizer.json</c>; <paramref name="name"/> names it in errors.</summary>
    public static EckerBpeTokenizer Parse(string json, string name = "tokenizer.json")
    {
        // JsonDocument keeps repeated keys; serde (and so upstream) keeps the last one.
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        JsonElement root = doc.RootElement;
        InvalidInputException Bad(string what) => new($"{name}: {what} (only a BPE tokenizer without normalizer or pre_tokenizer is supported)");

        foreach (string key in new[] { "normalizer", "pre_tokenizer" })
            if (root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) throw Bad($"\"{key}\" is set");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object) throw Bad("no \"model\"");
        string? type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
        if (type != "BPE") throw Bad($"model type {type}");
        foreach (string key in new[] { "dropout", "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null) throw Bad($"model \"{key}\" is set");
        foreach (string key in new[] { "fuse_unk", "byte_fallback" })
            if (model.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True) throw Bad($"model \"{key}\" is true");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in model.GetProperty("vocab").EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();

        var merges = new Dictionary<(int, int), (int, int)>();
        int rank = 0;
        foreach (var m in model.GetProperty("merges").EnumerateArray())
        {
            string a, b;
            if (m.ValueKind == JsonValueKind.Array) { a = m[0].GetString()!; b = m[1].GetString()!; }
            else
            {
                string[] parts = m.GetString()!.Split(' ');
                if (parts.Length != 2) throw Bad($"merge \"{m.GetString()}\" is not two tokens");
                (a, b) = (parts[0], parts[1]);
            }
            if (!vocab.TryGetValue(a, out int aId) || !vocab.TryGetValue(b, out int bId) || !vocab.TryGetValue(a + b, out int newId))
                throw Bad($"merge \"{a} {b}\" uses a token outside the vocabulary");
            merges[(aId, bId)] = (rank++, newId); // HashMap collect: a later merge with the same ids wins
        }

        int? unkId = null;
        if (model.TryGetProperty("unk_token", out var unk) && unk.ValueKind == JsonValueKind.String)
            unkId = vocab.TryGetValue(unk.GetString()!, out int u) ? u : null;

        var added = new List<(string, int)>();
        if (root.TryGetProperty("added_tokens", out var at) && at.ValueKind == JsonValueKind.Array)
            foreach (var a in at.EnumerateArray())
                added.Add((a.GetProperty("content").GetString()!, a.GetProperty("id").GetInt32()));

        var prefix = new List<int>();
        var suffix = new List<int>();
        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind != JsonValueKind.Null)
        {
            if (post.GetProperty("type").GetString() != "TemplateProcessing") throw Bad("post_processor is not TemplateProcessing");
            var specials = post.GetProperty("special_tokens");
            bool seenA = false;
            foreach (var piece in post.GetProperty("single").EnumerateArray())
            {
                if (piece.TryGetProperty("Sequence", out _)) { seenA = true; continue; }
                string id = piece.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                foreach (var i in specials.GetProperty(id).GetProperty("ids").EnumerateArray())
                    (seenA ? suffix : prefix).Add(i.GetInt32());
            }
        }
        return new EckerBpeTokenizer(vocab, merges, added.ToArray(), unkId, prefix.ToArray(), suffix.ToArray());
    }

    /// <summary><c>tokenizer.encode(text)</c>: the ids with the post-processor's special tokens around them.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length + 2);
        if (addSpecialTokens) ids.AddRange(Prefix);
        int rest = 0;
        while (rest < text.Length)
        {
            var (at, length, id) = NextAdded(text, rest);
            EncodeWord(text.AsSpan(rest, at - rest), ids);
            if (length == 0) break;
            ids.Add(id);
            rest = at + length;
        }
        if (addSpecialTokens) ids.AddRange(Suffix);
        return ids.ToArray();
    }

    /// <summary>The leftmost added token at or after <paramref name="from"/> (the longest there); length 0 when none.</summary>
    private (int At, int Length, int Id) NextAdded(string text, int from)
    {
        (int At, int Length, int Id) best = (text.Length, 0, 0);
        foreach (var (content, id) in _added)
        {
            if (content.Length == 0) continue;
            int at = text.IndexOf(content, from, StringComparison.Ordinal);
            if (at < 0) continue;
            if (at < best.At || (at == best.At && content.Length > best.Length)) best = (at, content.Length, id);
        }
        return best;
    }

    private void EncodeWord(ReadOnlySpan<char> word, List<int> output)
    {
        if (word.IsEmpty) return;
        var symbols = new List<int>(word.Length);
        foreach (Rune r in word.EnumerateRunes())
        {
            if (_vocab.TryGetValue(r.ToString(), out int id)) symbols.Add(id);
            else if (_unkId is int unk) symbols.Add(unk); // fuse_unk = false: one unk per character
            // no unk token: the character is dropped, as tokenizers does
        }
        // Lowest rank first, leftmost on ties: the order of tokenizers' merge queue.
        while (symbols.Count > 1)
        {
            int bestPos = -1, bestRank = int.MaxValue, bestId = 0;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_merges.TryGetValue((symbols[i], symbols[i + 1]), out var m) && m.Rank < bestRank)
                    (bestPos, bestRank, bestId) = (i, m.Rank, m.NewId);
            if (bestPos < 0) break;
            symbols[bestPos] = bestId;
            symbols.RemoveAt(bestPos + 1);
        }
        output.AddRange(symbols);
    }
}
