namespace VallE.Cli;

/// <summary>A disposable the command may replace before the end of its scope (the codec moved to the GPU); disposes the current one.</summary>
internal sealed class Owned<T>(T value) : IDisposable where T : class, IDisposable
{
    public T Value { get; private set; } = value;

    /// <summary>Disposes the current value and holds <paramref name="next"/> instead.</summary>
    public void Replace(Func<T> next)
    {
        Value.Dispose();
        Value = next();
    }

    public void Dispose() => Value.Dispose();
}
