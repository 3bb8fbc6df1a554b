using System.CommandLine;
using System.Text;

namespace VallE.Cli.Commands;

/// <summary>
/// A text that comes either inline (<c>--text</c>) or from a file (<c>--text-file PATH</c>, <c>-</c> = standard
/// input), exactly one of the two. Long text belongs in a file: the system caps one argument at 128 KiB. Files are
/// read as UTF-8 (a BOM is dropped) up to <see cref="MaxBytes"/>.
/// </summary>
internal sealed class TextInput
{
    /// <summary>1 MiB of text is hours of speech; anything larger is a mistake, not a script.</summary>
    public const int MaxBytes = 1 << 20;

    public Option<string?> Inline { get; }
    public Option<string?> File { get; }
    private readonly string _what;

    /// <param name="name">option stem: <c>text</c> gives <c>--text</c> / <c>--text-file</c>.</param>
    public TextInput(string name, string what, string description)
    {
        _what = what;
        Inline = new Option<string?>($"--{name}") { HelpName = "TEXT", Description = description };
        File = new Option<string?>($"--{name}-file")
        {
            HelpName = "PATH",
            Description = $"Read the {what} from a UTF-8 file instead ('-' = standard input).",
        };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Inline);
        command.Options.Add(File);
    }

    /// <summary>The text; a usage error unless exactly one of the two options was given.</summary>
    public string Read(ParseResult parse)
    {
        string? inline = parse.GetValue(Inline), path = parse.GetValue(File);
        if ((inline is null) == (path is null))
            throw new UsageException($"give exactly one of {Inline.Name} and {File.Name}");
        return inline ?? ReadFile(path!, _what);
    }

    /// <summary>The text, or null when neither option was given; a usage error when both were.</summary>
    public string? ReadOptional(ParseResult parse)
    {
        string? inline = parse.GetValue(Inline), path = parse.GetValue(File);
        if (inline is not null && path is not null)
            throw new UsageException($"give only one of {Inline.Name} and {File.Name}");
        return inline ?? (path is null ? null : ReadFile(path, _what));
    }

    /// <summary>The file named by the file option, or null when it was not given.</summary>
    public string? FilePath(ParseResult parse) => parse.GetValue(File);

    /// <summary>Reads a text file (or standard input for <c>-</c>), refusing more than <see cref="MaxBytes"/>.</summary>
    public static string ReadFile(string path, string what)
    {
        try
        {
            using Stream stream = path == "-" ? Console.OpenStandardInput() : OpenRegular(path);
            var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int n;
            while ((n = stream.Read(chunk)) > 0)
            {
                if (buffer.Length + n > MaxBytes)
                    throw new InvalidInputException($"{Show(path)}: the {what} is longer than {MaxBytes >> 20} MiB; split it into several runs");
                buffer.Write(chunk, 0, n);
            }
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length).TrimStart('\uFEFF');
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidInputException($"{Show(path)}: the {what} is not valid UTF-8");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot read {Show(path)}: {e.Message}");
        }
    }

    private static Stream OpenRegular(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path} is a directory, expected a text file");
        if (!System.IO.File.Exists(path)) throw new InvalidInputException($"text file not found: {path}");
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private static string Show(string path) => path == "-" ? "standard input" : path;
}
