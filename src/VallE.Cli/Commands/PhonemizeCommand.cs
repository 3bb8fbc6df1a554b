using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using VallE.Runtime.Text;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle phonemize [--symbols FILE] [--language L] [--json] TEXT... | --text-file PATH</c>: the phoneme tokens lifeiteng's
/// TextTokenizer makes of each TEXT and, with a symbol table, their token ids (with &lt;bos&gt;/&lt;eos&gt;, as
/// the model receives them). Human output: per TEXT one line of phonemes joined by spaces, then (with
/// --symbols) one line of ids. --json: one JSON array with an object per TEXT:
/// <c>{"text", "phonemes", "token_ids"}</c> (the layout of the shared text fixture; no token_ids without
/// --symbols). With <c>--text-file</c> (<c>-</c> = standard input) every non-blank line of the file is one TEXT.
/// </summary>
internal static class PhonemizeCommand
{
    public static Command Create(CliContext ctx)
    {
        var textArg = new Argument<string[]>("TEXT")
        {
            Description = "Text to phonemize; each argument is phonemized on its own.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var textFileOpt = new Option<string?>("--text-file")
        {
            HelpName = "PATH",
            Description = "Read the texts from a UTF-8 file, one per line, instead ('-' = standard input).",
        };
        var symbolsOpt = new Option<string?>("--symbols")
        {
            HelpName = "FILE",
            Description = "k2 symbol table (unique_text_tokens.k2symbols) to map phonemes to token ids.",
        };
        var languageOpt = new Option<string>("--language", "-l")
        {
            HelpName = "L",
            Description = "espeak-ng language code (`espeak-ng --voices` lists them).",
            DefaultValueFactory = _ => EspeakPhonemizer.DefaultLanguage,
        };
        var jsonOpt = new Option<bool>("--json") { Description = "Print a JSON array, one object per TEXT." };
        var libOpt = new Option<string?>("--espeak-lib")
        {
            HelpName = "PATH",
            Description = "Path of libespeak-ng (default: $VALLE_ESPEAK_LIB, then the system's libespeak-ng.so.1).",
        };
        var dataOpt = new Option<string?>("--espeak-data")
        {
            HelpName = "DIR",
            Description = "espeak-ng-data folder (default: $VALLE_ESPEAK_DATA, then espeak-ng's own).",
        };

        var command = new Command("phonemize", "Phonemize text with espeak-ng and map phonemes to token ids.");
        command.Arguments.Add(textArg);
        command.Options.Add(textFileOpt);
        command.Options.Add(symbolsOpt);
        command.Options.Add(languageOpt);
        command.Options.Add(jsonOpt);
        command.Options.Add(libOpt);
        command.Options.Add(dataOpt);

        command.SetAction(parse => CliApp.Guard(ctx, () =>
        {
            string[] texts = parse.GetValue(textArg) ?? [];
            string? textFile = parse.GetValue(textFileOpt);
            if (textFile is not null && texts.Length > 0) throw new UsageException("give TEXT arguments or --text-file, not both");
            if (textFile is not null)
                texts = TextInput.ReadFile(textFile, "text").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToArray();
            if (texts.Length == 0 && textFile is not null) throw new InvalidInputException($"{textFile}: the file holds no text");
            if (texts.Length == 0) throw new UsageException("give at least one TEXT to phonemize (or --text-file PATH)");
            string language = parse.GetValue(languageOpt) ?? EspeakPhonemizer.DefaultLanguage;
            if (string.IsNullOrWhiteSpace(language)) throw new UsageException("--language must not be empty");

            // The symbol table first: it is cheap and its errors need no espeak.
            string? symbolsPath = parse.GetValue(symbolsOpt);
            SymbolTable? symbols = symbolsPath is null ? null : SymbolTable.Load(symbolsPath);
            var phonemizer = new EspeakPhonemizer(language, parse.GetValue(libOpt), parse.GetValue(dataOpt));

            var results = new List<(string Text, IReadOnlyList<string> Phonemes, long[]? Ids)>(texts.Length);
            foreach (string text in texts)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                IReadOnlyList<string> phonemes = phonemizer.Phonemize(text);
                long[]? ids = symbols?.Encode(phonemes, addBosEos: true, sourceText: text);
                results.Add((text, phonemes, ids));
            }

            if (parse.GetValue(jsonOpt)) WriteJson(ctx.Out, results);
            else
            {
                foreach (var (_, phonemes, ids) in results)
                {
                    ctx.Out.WriteLine(string.Join(' ', phonemes));
                    if (ids is not null) ctx.Out.WriteLine(string.Join(' ', ids));
                }
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void WriteJson(TextWriter output, List<(string Text, IReadOnlyList<string> Phonemes, long[]? Ids)> results)
    {
        // IPA printed as is, not as \uXXXX escapes: the output is for people and for tools alike.
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartArray();
            foreach (var (text, phonemes, ids) in results)
            {
                json.WriteStartObject();
                json.WriteString("text", text);
                json.WriteStartArray("phonemes");
                foreach (string p in phonemes) json.WriteStringValue(p);
                json.WriteEndArray();
                if (ids is not null)
                {
                    json.WriteStartArray("token_ids");
                    foreach (long id in ids) json.WriteNumberValue(id);
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
