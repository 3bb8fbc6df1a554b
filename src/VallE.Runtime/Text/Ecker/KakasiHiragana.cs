using System.Text;

namespace VallE.Runtime.Text.Ecker;

/// <summary>A kanji word found in a text: <c>Length</c> UTF-16 units from its start read as <c>Hiragana</c>.</summary>
internal readonly record struct KanjiReading(int Length, string Hiragana);

/// <summary>
/// Upstream's <c>coerce_to_hiragana</c> (e-c-k-e-r/vall-e 73833ee <c>vall_e/emb/g2p.py</c>):
/// <c>"".join(r["hira"] for r in pykakasi.kakasi().convert(text))</c>, reproduced from pykakasi 2.3.0's observable
/// behaviour (not its code, GPL-3.0) except for where kanji readings come from: the caller supplies them
/// (<see cref="KanjiReadings"/>: OpenJTalk's word readings instead of pykakasi's own dictionary).
/// <para>
/// pykakasi walks the text keeping one pending piece; each character, by class, either joins the piece, flushes it
/// (its <c>hira</c> is output) and starts a new one, or is output alone. The joined output keeps hiragana, ASCII and
/// most symbols as they are, turns katakana into hiragana (<see cref="KakasiKana"/>) and kanji words into readings.
/// Its quirks, reproduced because upstream's phonemes depend on them:
/// <list type="bullet">
/// <item>characters of no class it knows (control characters such as a line break or tab, U+007F..U+00A0,
///   U+0100..U+0390, ヽ ヾ ヿ and U+3100..U+33FF, U+E000..U+EFFF) are dropped, and so are U+F000..U+FFFD (full-width
///   ； ＝, half-width ｡ ｢ ｣ ､ ･ ﾟ, variation selectors) and everything above U+FFFF (emoji, CJK extension B kanji);
///   dropping flushes the pending piece without clearing it, so that piece is output again later (あ😀い → ああい);</item>
/// <item>a character of U+3400..U+DFFF that is not a CJK ideograph (Hangul, Yi, ...) is a kanji pykakasi cannot
///   read: it is dropped together with the character after it.</item>
/// </list>
/// Differences: kanji readings (see <see cref="KanjiReadings"/>); a CJK ideograph with no reading is dropped alone
/// (pykakasi drops the next character too, but only for kanji its dictionary lacks, which we cannot know); CJK
/// compatibility ideographs (U+F900..U+FAFF) are all read as kanji (pykakasi reads only those its variant table maps).
/// </para>
/// </summary>
internal static class KakasiHiragana
{
    private enum Kind { Kanji, Katakana, Hiragana, Symbol, Alpha }

    // pykakasi's "end marks": each starts a new piece and makes the class Symbol.
    private const string EndMarks = ")]!,.、。？０＞＜";

    // pykakasi's long-vowel marks (ー ― − ｰ): they join whatever piece is pending without changing the class.
    private const string LongMarks = "ー―−ｰ";

    /// <summary>
    /// The hiragana text pykakasi would give for <paramref name="text"/>, with the kanji words of
    /// <paramref name="readings"/> (keyed by their UTF-16 start index) read as given.
    /// </summary>
    public static string Convert(string text, IReadOnlyDictionary<int, KanjiReading> readings)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(readings);
        var output = new StringBuilder(text.Length * 2);
        var piece = new StringBuilder(); // the pending piece's text before katakana → hiragana ("" = none pending)
        var kind = Kind.Kanji;           // pykakasi starts as if a kanji came before
        int i = 0;

        void Flush() { if (piece.Length > 0) output.Append(KakasiKana.ToHiragana(piece.ToString())); }
        void StartWith(string s) { Flush(); piece.Clear().Append(s); }

        while (i < text.Length)
        {
            if (readings.TryGetValue(i, out var word))
            {
                // A kanji word: flush, and the reading becomes the pending piece (long marks may still join it).
                if (word.Length <= 0 || i + word.Length > text.Length)
                    throw new ArgumentException($"kanji reading at {i} does not fit the text", nameof(readings));
                StartWith(word.Hiragana);
                kind = Kind.Kanji;
                i += word.Length;
                continue;
            }

            // A lone surrogate is taken as its own code point, as Python's str holds it (pykakasi: an unknown kanji).
            bool whole = Rune.TryGetRuneAt(text, i, out var rune);
            int c = whole ? rune.Value : text[i];
            string s = whole ? rune.ToString() : text[i].ToString();
            int next = i + (whole ? rune.Utf16SequenceLength : 1);

            if (c < 0x10000 && EndMarks.Contains((char)c))
            {
                StartWith(s);
                kind = Kind.Symbol;
            }
            else if (c < 0x10000 && LongMarks.Contains((char)c))
            {
                piece.Append(s);
            }
            else if (KakasiKana.IsKatakana(c)) Join(Kind.Katakana);
            else if (KakasiKana.IsHiragana(c)) Join(Kind.Hiragana);
            else if (c is >= 0x20 and < 0x7F) Join(Kind.Alpha);
            else if (IsSymbol(c))
            {
                if (kind != Kind.Symbol) StartWith(s);
                else { Flush(); output.Append(s); piece.Clear(); }
                kind = Kind.Symbol;
            }
            else if (c is >= 0x3400 and < 0xE000 || IsCompatibilityIdeograph(c))
            {
                // A kanji with no reading: dropped. pykakasi also skips the next character, which we copy only where
                // pykakasi surely has no reading (not an ideograph: Hangul, Yi, ...).
                Flush();
                piece.Clear();
                kind = Kind.Kanji;
                if (!IsIdeograph(c) && next < text.Length)
                    next += Rune.TryGetRuneAt(text, next, out var skipped) ? skipped.Utf16SequenceLength : 1;
            }
            else if (c is (>= 0xF000 and <= 0xFFFD) or (>= 0x10000 and <= 0x10FFFD))
            {
                Flush(); // not cleared: pykakasi outputs this piece again later
                kind = Kind.Symbol;
            }
            else
            {
                Flush(); // not cleared either; the class is kept
            }
            i = next;

            void Join(Kind k)
            {
                if (kind == k) piece.Append(s);
                else StartWith(s);
                kind = k;
            }
        }
        Flush();
        return output.ToString();
    }

    /// <summary>CJK ideographs pykakasi reads as kanji and we send to OpenJTalk: U+3400..U+4DBF, U+4E00..U+9FFF, U+F900..U+FAFF.</summary>
    public static bool IsIdeograph(int c) => c is (>= 0x3400 and <= 0x4DBF) or (>= 0x4E00 and <= 0x9FFF) || IsCompatibilityIdeograph(c);

    private static bool IsCompatibilityIdeograph(int c) => c is >= 0xF900 and <= 0xFAFF;

    // pykakasi's symbol class (its ranges as it tests them, one of which runs from Greek Α to ァ).
    private static bool IsSymbol(int c) =>
        c is (>= 0xA1 and <= 0xFF) or (>= 0x391 and <= 0x30A1) or (>= 0xFF01 and <= 0xFF1A) or (>= 0xFF20 and <= 0xFF5E);
}
