using System.Collections.Frozen;
using System.IO.Compression;
using System.Text;

namespace VallE.Runtime.Text.Vallex.English;

/// <summary>
/// The pronouncing dictionary <c>eng_to_ipa</c> looks words up in: CMUdict 0.7b as its repository ships it
/// (<c>eng_to_ipa/resources/CMU_source_files/cmudict-0.7b.txt</c>, 133,779 entries, loaded into its SQLite file by
/// its <c>cmudict_to_sql.py</c>: word lower-cased with <c>(n)</c> variant markers removed, phonemes lower-cased).
/// eng_to_ipa's <c>convert</c> keeps only the first pronunciation of a word in file order, so only that one is
/// kept here. Embedded gzip-compressed (data/vallex/cmudict-0.7b.txt.gz); parsed once, on first use.
/// </summary>
internal static class CmuDictionary
{
    internal const string ResourceName = "VallE.Runtime.Vallex.cmudict-0.7b.txt.gz";

    private static readonly Lazy<FrozenDictionary<string, string>> Entries = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Word (lower-case) → ARPAbet phonemes of its first pronunciation, lower-case ("hh ah0 l ow1").</summary>
    public static FrozenDictionary<string, string> Words => Entries.Value;

    public static bool TryGet(string word, out string phonemes) => Words.TryGetValue(word, out phonemes!);

    private static FrozenDictionary<string, string> Load()
    {
        using Stream? raw = typeof(CmuDictionary).Assembly.GetManifestResourceStream(ResourceName);
        if (raw is null) throw new InvalidOperationException($"embedded resource {ResourceName} is missing from VallE.Runtime");
        using var gzip = new GZipStream(raw, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, new UTF8Encoding(false));
        var words = new Dictionary<string, string>(140_000, StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            int sep = line.IndexOf("  ", StringComparison.Ordinal);
            if (sep < 0) continue;
            int next = line.IndexOf("  ", sep + 2, StringComparison.Ordinal); // upstream takes split("  ")[1]
            string phonemes = (next < 0 ? line[(sep + 2)..] : line[(sep + 2)..next]).ToLowerInvariant();
            string word = RemoveVariantMarkers(line[..sep]).ToLowerInvariant();
            words.TryAdd(word, phonemes);
        }
        return words.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary><c>re.sub(r"\(\d\)", "", w)</c>: drops every "(digit)".</summary>
    private static string RemoveVariantMarkers(string w)
    {
        if (w.IndexOf('(') < 0) return w;
        var sb = new StringBuilder(w.Length);
        for (int i = 0; i < w.Length; i++)
        {
            if (w[i] == '(' && i + 2 < w.Length && char.IsAsciiDigit(w[i + 1]) && w[i + 2] == ')') { i += 2; continue; }
            sb.Append(w[i]);
        }
        return sb.ToString();
    }
}
