namespace VallE.Weights.IO;

/// <summary>
/// Writes a file so that readers never see it half-written: the content goes to a temporary file in the same
/// directory, which is renamed over the target only after it was written and flushed completely. On any
/// failure the temporary file is deleted and the target is left as it was. Output paths are user input: a
/// directory in the way, a read-only folder or a full disk are reported as <see cref="InvalidInputException"/>.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir))
            throw new InvalidInputException($"output directory does not exist: {dir}");
        if (Directory.Exists(full))
            throw new InvalidInputException($"output {full} is a directory, expected a file name");
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new InvalidInputException($"cannot write {full}: {e.Message}");
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
