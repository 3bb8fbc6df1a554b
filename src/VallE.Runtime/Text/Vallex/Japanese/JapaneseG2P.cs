namespace VallE.Runtime.Text.Vallex.Japanese;

/// <summary>
/// VALL-E X's Japanese front end (<c>japanese_to_ipa2</c>, what <c>cje_cleaners</c> applies to a <c>[JA]</c>
/// segment): OpenJTalk full-context labels (<see cref="OpenJTalkLabeler"/>) → romaji with accent marks
/// (<see cref="JapaneseRomaji"/>) → IPA2 (<see cref="JapaneseIpa"/>). OpenJTalk is looked for on first use, so
/// constructing this never fails; a missing OpenJTalk is a <see cref="NativeDependencyException"/> from
/// <see cref="ToIpa"/>. Thread-safe: each run of Japanese text is one open_jtalk process; the runs of one segment
/// are labelled in parallel.
/// </summary>
internal sealed class JapaneseG2P : IVallexG2P
{
    private readonly OpenJTalkLabeler? _labeler;

    /// <summary>Uses <see cref="OpenJTalkLabeler.Shared"/> (found on first use).</summary>
    public JapaneseG2P() { }

    public JapaneseG2P(OpenJTalkLabeler labeler) => _labeler = labeler;

    public string Language => "ja";

    /// <exception cref="NativeDependencyException">OpenJTalk is missing or failed.</exception>
    /// <exception cref="InvalidInputException">A run of Japanese characters is too long for OpenJTalk.</exception>
    public string ToIpa(string segmentText)
    {
        ArgumentNullException.ThrowIfNull(segmentText);
        return JapaneseIpa.FromRomaji(ToRomajiWithAccent(segmentText));
    }

    /// <summary>Upstream's <c>japanese_to_romaji_with_accent</c>.</summary>
    public string ToRomajiWithAccent(string text)
    {
        var pieces = JapaneseRomaji.Split(text);
        var labels = new IReadOnlyList<string>?[pieces.Count];
        var runs = Enumerable.Range(0, pieces.Count).Where(i => pieces[i].IsJapanese).ToArray();
        if (runs.Length > 0)
        {
            var labeler = _labeler ?? OpenJTalkLabeler.Shared;
            if (runs.Length == 1)
            {
                labels[runs[0]] = labeler.ExtractFullContext(pieces[runs[0]].Text);
            }
            else
            {
                var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 4) };
                try
                {
                    Parallel.ForEach(runs, options, i => labels[i] = labeler.ExtractFullContext(pieces[i].Text));
                }
                catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault() is ValleException first)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
                    throw;
                }
            }
        }
        return JapaneseRomaji.Join(pieces, i => labels[i]!);
    }
}
