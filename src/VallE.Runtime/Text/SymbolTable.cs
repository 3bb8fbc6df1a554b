using System.Globalization;
using System.Text;

namespace VallE.Runtime.Text;

/// <summary>
/// Phoneme → token id, as lifeiteng's <c>get_text_token_collater</c> builds it from a k2 symbol table
/// (<c>unique_text_tokens.k2symbols</c>: one "symbol id" per line, <c>&lt;eps&gt; 0</c> first). The ids in the
/// file are NOT the token ids: <c>TextTokenCollater</c> numbers <c>&lt;pad&gt;</c>=0, <c>&lt;bos&gt;</c>=1,
/// <c>&lt;eos&gt;</c>=2, then every symbol of the table (<c>&lt;eps&gt;</c> included) in Python's sorted order
/// (by code point). When a symbol repeats one of the three specials, the later index wins, as in the Python
/// dict upstream builds.
/// </summary>
public sealed class SymbolTable
{
    public const string Pad = "<pad>";
    public const string Bos = "<bos>";
    public const string Eos = "<eos>";
    private const string DefaultEps = "<eps>";

    private readonly Dictionary<string, int> _ids;
    private readonly string[] _tokens;

    /// <summary>Where the table came from (file path), for messages.</summary>
    public string Source { get; }

    /// <summary>Token id → token (upstream's <c>idx2token</c>): the specials, then the sorted symbols.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The number of token ids (the text embedding must have at least this many rows).</summary>
    public int Count => _tokens.Length;

    public int PadId { get; }
    public int BosId { get; }
    public int EosId { get; }

    private SymbolTable(string source, IReadOnlyCollection<string> symbols)
    {
        Source = source;
        var sorted = symbols.ToList();
        sorted.Sort(PythonText.CodePointComparer);
        _tokens = [Pad, Bos, Eos, .. sorted];
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Length; i++) _ids[_tokens[i]] = i; // later duplicates overwrite, like {t: i for ...}
        PadId = _ids[Pad];
        BosId = _ids[Bos];
        EosId = _ids[Eos];
    }

    /// <summary>Reads a k2 symbol table file (UTF-8).</summary>
    /// <exception cref="InvalidInputException">The file is missing, unreadable or malformed.</exception>
    public static SymbolTable Load(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"symbol table {path} is a directory, expected a k2 symbols file");
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new InvalidInputException($"cannot read symbol table {path}: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses k2 symbol table text (k2's <c>SymbolTable.from_str</c> rules).</summary>
    public static SymbolTable Parse(string text, string source = "<symbols>")
    {
        var symbols = new HashSet<string>(StringComparer.Ordinal);
        var ids = new HashSet<long>();
        string[] lines = PythonText.Strip(text).Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            List<string> fields = PythonText.SplitWhitespace(lines[n]);
            if (fields.Count == 0) continue;
            string where = $"{source}:{n + 1}";
            if (fields.Count != 2)
                throw new InvalidInputException($"{where}: expected 'symbol id', got {fields.Count} fields");
            if (!long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id) || id < 0)
                throw new InvalidInputException($"{where}: id '{fields[1]}' is not a non-negative integer");
            if (!symbols.Add(fields[0])) throw new InvalidInputException($"{where}: duplicated symbol '{fields[0]}'");
            if (!ids.Add(id)) throw new InvalidInputException($"{where}: duplicated id {id}");
        }
        if (symbols.Count == 0) throw new InvalidInputException($"{source}: the symbol table is empty");
        // k2 puts <eps> at id 0 when the file has no id 0.
        if (!ids.Contains(0)) symbols.Add(DefaultEps);
        return new SymbolTable(source, symbols);
    }

    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    public bool Contains(string token) => _ids.ContainsKey(token);

    /// <summary>
    /// Token ids of a phoneme list, with <c>&lt;bos&gt;</c> first and <c>&lt;eos&gt;</c> last when asked (as
    /// <c>TextTokenCollater</c> adds them for inference).
    /// </summary>
    /// <param name="sourceText">The text the phonemes came from, named in the error message.</param>
    /// <exception cref="InvalidInputException">A phoneme is not in the table (upstream asserts).</exception>
    public long[] Encode(IReadOnlyList<string> phonemes, bool addBosEos = true, string? sourceText = null)
    {
        int offset = addBosEos ? 1 : 0;
        var ids = new long[phonemes.Count + 2 * offset];
        if (addBosEos)
        {
            ids[0] = BosId;
            ids[^1] = EosId;
        }
        for (int i = 0; i < phonemes.Count; i++)
        {
            if (!_ids.TryGetValue(phonemes[i], out int id))
                throw UnknownPhoneme(phonemes[i], sourceText);
            ids[i + offset] = id;
        }
        return ids;
    }

    private InvalidInputException UnknownPhoneme(string phoneme, string? sourceText)
    {
        string codes = string.Join(" ", phoneme.EnumerateRunes().Select(r => $"U+{r.Value:X4}"));
        string from = sourceText is null ? "" : $" (from the text \"{Shorten(sourceText)}\")";
        return new InvalidInputException(
            $"phoneme '{phoneme}' [{codes}]{from} is not in the symbol table {Source}; the model was not trained " +
            "on it (wrong language, or a symbol table that does not belong to this checkpoint?)");
    }

    private static string Shorten(string s) => s.Length <= 120 ? s : string.Concat(s.AsSpan(0, 117), "...");
}
