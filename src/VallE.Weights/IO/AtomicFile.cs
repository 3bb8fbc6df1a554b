using System.Security.Cryptography;
using System.Text;

namespace VallE.Weights.IO;

/// <summary>
/// Writes an output file so that readers never see it half-written, as careful command-line tools do:
/// <list type="bullet">
/// <item>a regular file (or a name not taken yet): the content goes to a temporary file with a short name in the
/// same directory, renamed over the target only after it was written and flushed; on any failure the temporary
/// file is deleted and the target is left as it was. A symlink is followed: its target is replaced, the link
/// stays.</item>
/// <item>an existing character device or FIFO (<c>/dev/null</c>, <c>/dev/stdout</c>, a named pipe): written in
/// place — renaming over it would replace the device node with a file.</item>
/// <item><c>-</c>: standard output.</item>
/// </list>
/// Output paths are user input: <see cref="Check"/> finds a missing or read-only folder, a directory in the way,
/// a name too long or an output that is one of the inputs before any work is done, and <see cref="Write"/>
/// reports a full disk the same way, as <see cref="InvalidInputException"/>.
/// </summary>
public static class AtomicFile
{
    /// <summary>The path that means standard output.</summary>
    public const string StandardOutput = "-";

    /// <summary>Longest file name most file systems take, in bytes (NAME_MAX).</summary>
    private const int MaxNameBytes = 255;

    /// <summary>
    /// Checks, before the work that produces it, that <paramref name="path"/> can be written and is none of
    /// <paramref name="inputs"/> (null entries are skipped). Creates nothing that outlives the call.
    /// </summary>
    public static void Check(string path, params string?[] inputs)
    {
        if (path == StandardOutput)
        {
            // As curl does: binary data on a terminal garbles it and is never what was meant.
            if (!Console.IsOutputRedirected)
                throw new InvalidInputException("refusing to write binary output to a terminal: redirect standard output or give a file name instead of '-'");
            return;
        }
        if (path.Length == 0) throw new InvalidInputException("the output path is empty");
        string full = Resolve(path);
        foreach (string? input in inputs)
            if (input is not null && input != StandardOutput && FileIdentity.SameFile(full, input))
                throw new InvalidInputException($"the output {path} is the same file as the input {input}: refusing to overwrite an input");
        if (IsWrittenInPlace(full)) return;
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new InvalidInputException($"output directory does not exist: {dir}");
        if (Directory.Exists(full)) throw new InvalidInputException($"output {full} is a directory, expected a file name");
        int nameBytes = Encoding.UTF8.GetByteCount(Path.GetFileName(full));
        if (nameBytes > MaxNameBytes)
            throw new InvalidInputException($"output file name is {nameBytes} bytes long; file systems take at most {MaxNameBytes}: {path}");
        // The one reliable test that the folder takes a new file: make (and remove) a temporary one.
        string probe = TempPath(dir);
        try { new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1).Dispose(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot write {full}: {e.Message}");
        }
        finally { TryDelete(probe); }
    }

    public static void Write(string path, Action<Stream> write)
    {
        if (path == StandardOutput)
        {
            using var stdout = Console.OpenStandardOutput();
            WriteTo(stdout, write, path);
            return;
        }
        string full = Resolve(path);
        if (IsWrittenInPlace(full))
        {
            // No lock: a device or pipe is shared by nature, and a reader holding a shared lock must not fail us.
            using var stream = Open(full, FileMode.Open, FileShare.ReadWrite);
            WriteTo(stream, write, full);
            return;
        }
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir))
            throw new InvalidInputException($"output directory does not exist: {dir}");
        if (Directory.Exists(full))
            throw new InvalidInputException($"output {full} is a directory, expected a file name");
        string tmp = TempPath(dir);
        try
        {
            using (var fs = Open(tmp, FileMode.CreateNew))
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
        WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>Full path with a final symlink followed, so that the link's target is what gets replaced.</summary>
    private static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;   // a dangling or looping link: the write reports it
        }
    }

    private static bool IsWrittenInPlace(string full) =>
        FileIdentity.Of(full)?.Kind is FileKind.CharacterDevice or FileKind.Fifo or FileKind.Socket or FileKind.BlockDevice;

    private static FileStream Open(string path, FileMode mode, FileShare share = FileShare.None)
    {
        try
        {
            return new FileStream(path, mode, FileAccess.Write, share, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot write {path}: {e.Message}");
        }
    }

    private static void WriteTo(Stream stream, Action<Stream> write, string what)
    {
        try
        {
            write(stream);
            stream.Flush();
        }
        catch (IOException e)
        {
            throw new InvalidInputException($"cannot write {what}: {e.Message}");
        }
    }

    /// <summary>
    /// A short hidden name in <paramref name="dir"/>: it must fit wherever the target's name fits, so it does not
    /// embed that name (a legal 250-character target would otherwise get an illegal temporary name).
    /// </summary>
    private static string TempPath(string dir) =>
        Path.Combine(dir, $".valle-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
