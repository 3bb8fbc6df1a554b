using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace VallE.Runtime.Text.Vallex.Mandarin;

/// <summary>
/// Reads the Mandarin front end's data files, embedded in this assembly as gzip text (made by
/// <c>tools/vallex-zh-data/make_data.py</c> from jieba 0.42.1 and pypinyin 0.55.0; see <c>data/vallex/zh/README.md</c>).
/// Each file is parsed once, on first use, by the type that owns it.
/// </summary>
internal static class MandarinData
{
    public const string JiebaDictionary = "jieba-dict.txt.gz";
    public const string JiebaHmm = "jieba-hmm.txt.gz";
    public const string PinyinChars = "pinyin-chars.txt.gz";
    public const string PinyinPhrases = "pinyin-phrases.txt.gz";

    private const string ResourcePrefix = "VallE.Runtime.Vallex.zh.";

    /// <summary>The whole text of one data file.</summary>
    public static string ReadText(string name)
    {
        using var stream = typeof(MandarinData).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"embedded resource {ResourcePrefix + name} is missing from {typeof(MandarinData).Assembly.GetName().Name}");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, new UTF8Encoding(false, throwOnInvalidBytes: true));
        return reader.ReadToEnd();
    }

    public static int ParseInt(ReadOnlySpan<char> s, string source) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
            ? v : throw new InvalidDataException($"{source}: '{s}' is not a count");

    public static long ParseLong(ReadOnlySpan<char> s, string source) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
            ? v : throw new InvalidDataException($"{source}: '{s}' is not a count");

    /// <summary>A float as Python's repr wrote it; .NET's parser rounds correctly, so the double is the same.</summary>
    public static double ParseDouble(ReadOnlySpan<char> s, string source) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v : throw new InvalidDataException($"{source}: '{s}' is not a number");
}
