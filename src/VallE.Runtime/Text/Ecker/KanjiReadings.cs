using System.Text;
using VallE.Runtime.Text.Vallex.Japanese;

namespace VallE.Runtime.Text.Ecker;

/// <summary>
/// Kanji readings for <see cref="KakasiHiragana"/>, from OpenJTalk's word analysis (MeCab + naist-jdic: Debian's
/// open-jtalk, the program VALL-E X's Japanese front end already runs) where upstream uses pykakasi's dictionary.
/// <para>
/// The text's runs of Japanese characters (kanji, kana, 々 〆 〇; variation selectors are skipped) that hold a kanji go
/// to OpenJTalk, several per call joined by 、 (a word boundary it keeps as a node of its own, so the words of each run
/// are found again). Each word holding a kanji becomes one reading: from its first kanji to its end (okurigana included,
/// as pykakasi's dictionary matches 大きい or 助け), its katakana <c>read</c> field (トウキョウ, not the pronunciation
/// トーキョー; particles stay は を as pykakasi leaves them) minus the reading of the kana before the kanji (お茶 → 茶 チャ);
/// where that kana does not start the reading (ヶ月 カゲツ) the whole word is read. Digits and counters written in
/// kanji keep the number's sound changes (<see cref="NumberReading"/>). A word whose reading is not katakana
/// (OpenJTalk reads kanji it does not know as a pause, 、) gets none: its kanji are dropped, as pykakasi drops kanji
/// it cannot read.
/// </para>
/// </summary>
internal static class KanjiReadings
{
    private const char Separator = '、';

    /// <summary>One line of text → its words (surface, katakana reading); <see cref="OpenJTalkLabeler.ExtractWords"/>.</summary>
    public delegate IReadOnlyList<OpenJTalkWord> Analyzer(string line);

    // A run as sent: its text without variation selectors, and the UTF-16 index in the input of each of its units.
    private sealed record Run(string Sent, int[] Origin, int End);

    /// <summary>The readings of the kanji words of <paramref name="text"/>, keyed by their UTF-16 start index.</summary>
    /// <exception cref="InvalidInputException">A run is too long for OpenJTalk (split the text with punctuation).</exception>
    /// <exception cref="NativeDependencyException">OpenJTalk is missing or failed.</exception>
    public static Dictionary<int, KanjiReading> Find(string text, Analyzer analyze)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(analyze);
        var readings = new Dictionary<int, KanjiReading>();
        var runs = FindRuns(text);
        foreach (var batch in Batch(runs))
        {
            var words = analyze(string.Join(Separator, batch.Select(r => r.Sent)));
            var perRun = SplitAtSeparators(words, batch.Count);
            for (int k = 0; k < batch.Count; k++)
                AddReadings(text, batch[k], perRun?[k] ?? analyze(batch[k].Sent), readings);
        }
        return readings;
    }

    /// <summary>Characters OpenJTalk gets: kanji, hiragana, katakana (not ・), 々 〆 〇.</summary>
    private static bool IsRunChar(int c) =>
        KakasiHiragana.IsIdeograph(c) || c is (>= 0x3041 and <= 0x309F) or (>= 0x30A1 and <= 0x30FA) or (>= 0x30FC and <= 0x30FF)
            or (>= 0x3005 and <= 0x3007);

    private static bool IsVariationSelector(int c) => c is (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF);

    private static List<Run> FindRuns(string text)
    {
        var runs = new List<Run>();
        var sent = new StringBuilder();
        var origin = new List<int>();
        bool hasKanji = false;
        int i = 0;
        while (i <= text.Length)
        {
            Rune r = default;
            int width = 1; // a lone surrogate: one unit, never a run member
            bool member = false;
            if (i < text.Length && Rune.TryGetRuneAt(text, i, out r))
            {
                width = r.Utf16SequenceLength;
                member = IsRunChar(r.Value) || (sent.Length > 0 && IsVariationSelector(r.Value));
            }
            if (!member)
            {
                if (hasKanji) runs.Add(new Run(sent.ToString(), [.. origin], i));
                sent.Clear();
                origin.Clear();
                hasKanji = false;
                if (i == text.Length) break;
            }
            else if (!IsVariationSelector(r.Value))
            {
                for (int u = 0; u < r.Utf16SequenceLength; u++) origin.Add(i + u);
                sent.Append(r.ToString());
                hasKanji |= KakasiHiragana.IsIdeograph(r.Value);
            }
            i += width;
        }
        return runs;
    }

    // Groups runs into OpenJTalk calls that fit its line buffer (a run too long alone is refused by the labeler).
    private static IEnumerable<List<Run>> Batch(List<Run> runs)
    {
        var batch = new List<Run>();
        int bytes = 0;
        foreach (var run in runs)
        {
            int size = Encoding.UTF8.GetByteCount(run.Sent) + 3;
            if (batch.Count > 0 && bytes + size > OpenJTalkLabeler.MaxExpandedBytes)
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }
            batch.Add(run);
            bytes += size;
        }
        if (batch.Count > 0) yield return batch;
    }

    // The words of each run, cut at the separator nodes; null when their count is not the expected one (then each run
    // is analysed alone).
    private static List<List<OpenJTalkWord>>? SplitAtSeparators(IReadOnlyList<OpenJTalkWord> words, int runs)
    {
        var result = new List<List<OpenJTalkWord>> { new() };
        foreach (var w in words)
        {
            if (w.Surface == Separator.ToString()) result.Add([]);
            else result[^1].Add(w);
        }
        return result.Count == runs ? result : null;
    }

    private static void AddReadings(string text, Run run, IReadOnlyList<OpenJTalkWord> words, Dictionary<int, KanjiReading> readings)
    {
        int cursor = 0;
        foreach (var word in words)
        {
            if (word.Surface.Length == 0) continue;
            int at = run.Sent.IndexOf(word.Surface, cursor, StringComparison.Ordinal);
            if (at < 0) continue; // a node OpenJTalk rewrote: its characters keep no reading
            cursor = at + word.Surface.Length;

            int firstKanji = FirstKanji(word.Surface);
            if (firstKanji < 0 || !IsKatakanaReading(word.Reading)) continue;
            string reading = NumberReading(word) ?? word.Reading!;
            int from = 0;
            if (firstKanji > 0)
            {
                string prefix = ToKatakana(word.Surface[..firstKanji]);
                if (reading.StartsWith(prefix, StringComparison.Ordinal)) { from = firstKanji; reading = reading[prefix.Length..]; }
            }
            int start = run.Origin[at + from];
            int end = cursor < run.Origin.Length ? run.Origin[cursor] : run.End;
            // Variation selectors after the word's last character belong to it (pykakasi reads them with the kanji).
            readings[start] = new KanjiReading(end - start, KakasiKana.ToHiragana(reading));
        }
    }

    /// <summary>
    /// A digit or counter written in kanji: its reading with the sound changes of the number it is in (六百 ろっぴゃく,
    /// 一本 いっぽん, 一週間 いっしゅうかん), which OpenJTalk's NJD puts into the pronunciation only (read: ロク ヒャク).
    /// pykakasi's dictionary has such compounds. Taken from <c>pron</c> where it has the reading's length, with the
    /// reading's kana where <c>pron</c> writes a long vowel as ー (ジュウ, not ジュー); otherwise null (use <c>read</c>).
    /// </summary>
    private static string? NumberReading(OpenJTalkWord word)
    {
        var pos = word.PartOfSpeech.Split(',');
        bool number = pos.Length >= 3 && pos[0] == "名詞" && (pos[1] == "数" || pos[2] == "助数詞");
        string? read = word.Reading, pron = word.Pronunciation;
        if (!number || pron is null || read is null || pron.Length != read.Length || !IsKatakanaReading(pron)) return null;
        return string.Create(read.Length, (read, pron), (span, p) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = p.pron[i] == 'ー' ? p.read[i] : p.pron[i];
        });
    }

    private static int FirstKanji(string s)
    {
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1)
            if (KakasiHiragana.IsIdeograph(char.ConvertToUtf32(s, i))) return i;
        return -1;
    }

    private static bool IsKatakanaReading(string? s) =>
        !string.IsNullOrEmpty(s) && s.All(c => c is (>= '\u30A1' and <= '\u30FA') or '\u30FC');

    private static string ToKatakana(string s) =>
        string.Create(s.Length, s, (span, src) =>
        {
            for (int i = 0; i < src.Length; i++) span[i] = src[i] is >= '\u3041' and <= '\u3096' ? (char)(src[i] + 0x60) : src[i];
        });
}
