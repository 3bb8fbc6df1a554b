using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using VallE.Runtime.Text;
using VallE.Runtime.Text.Ecker;
using VallE.Runtime.Text.Vallex;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>valle phonemize [--frontend espeak|vallex] [--symbols FILE] [--language L] [--json] TEXT... | --text-file PATH</c>.
/// <para><c>--frontend vallex</c>: VALL-E X's own front end (<see cref="VallexTextFrontEnd"/>), language
/// en|zh|ja|mix|auto (default auto). Per TEXT one line: with --json one compact JSON object
/// <c>{"text", "phonemes", "token_ids", "language_ids"}</c> (the layout of the shared vallex fixtures, phonemes as one
/// string with <c>_</c> for spaces); without, the phonemes, the token ids and the language ids on three lines.</para>
/// <para><c>--frontend ecker</c>: e-c-k-e-r/vall-e's front end (<see cref="EckerTextFrontEnd"/>), language en|ja|de|fr|zh|ko
/// (default en), upstream's <c>tokenizer.json</c> from <c>--tokenizer</c> or <c>$VALLE_ECKER_TOKENIZER</c>. Per TEXT one
/// line: with --json <c>{"text", "phonemes", "token_ids"}</c>; without, the phonemes and the token ids on two lines.</para>
/// <para><c>--frontend espeak</c> (default): the phoneme tokens lifeiteng's
/// TextTokenizer makes of each TEXT and, with a symbol table, their token ids (with &lt;bos&gt;/&lt;eos&gt;, as
/// the model receives them). Human output: per TEXT one line of phonemes joined by spaces, then (with
/// --symbols) one line of ids. --json: one JSON array with an object per TEXT:
/// <c>{"text", "phonemes", "token_ids"}</c> (the layout of the shared text fixture; no token_ids without
/// --symbols).</para>
/// With <c>--text-file</c> (<c>-</c> = standard input) every non-blank line of the file is one TEXT.
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
        var frontendOpt = new Option<string>("--frontend")
        {
            HelpName = "NAME",
            Description = "Text front end: espeak (lifeiteng VALL-E, espeak-ng phonemes), vallex (VALL-E X's own g2p and BPE phoneme tokens) or ecker (e-c-k-e-r/vall-e: espeak with stress, then its tokenizer.json BPE).",
            DefaultValueFactory = _ => "espeak",
        };
        frontendOpt.AcceptOnlyFromAmong("espeak", "vallex", "ecker");
        var tokenizerOpt = new TokenizerCliOption();
        var languageOpt = new Option<string?>("--language", "-l")
        {
            HelpName = "L",
            Description = $"espeak: an espeak-ng language code (`espeak-ng --voices` lists them; default {EspeakPhonemizer.DefaultLanguage}). "
                + "vallex: en, zh, ja, mix (the text carries [EN]/[ZH]/[JA] tags) or auto (default). ecker: en (default), ja, de, fr, zh, ko.",
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

        var command = new Command("phonemize", "Phonemize text (espeak-ng, or VALL-E X's own front end) and map phonemes to token ids.");
        command.Arguments.Add(textArg);
        command.Options.Add(textFileOpt);
        command.Options.Add(frontendOpt);
        command.Options.Add(symbolsOpt);
        tokenizerOpt.AddTo(command);
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
            string frontend = parse.GetValue(frontendOpt) ?? "espeak";
            bool vallex = frontend == "vallex";
            if (frontend != "ecker" && tokenizerOpt.Given(parse) is not null) throw new UsageException("--tokenizer is for --frontend ecker");
            if (frontend == "ecker")
            {
                if (parse.GetValue(symbolsOpt) is not null) throw new UsageException("--symbols is for --frontend espeak; the ecker front end reads --tokenizer");
                string eckerLanguage = parse.GetValue(languageOpt) ?? "en";
                string tokenizer = tokenizerOpt.Require(parse, "--frontend ecker");
                return RunEcker(ctx, texts, eckerLanguage, tokenizer, parse.GetValue(jsonOpt), parse.GetValue(libOpt), parse.GetValue(dataOpt));
            }
            string language = parse.GetValue(languageOpt) ?? (vallex ? "auto" : EspeakPhonemizer.DefaultLanguage);
            if (string.IsNullOrWhiteSpace(language)) throw new UsageException("--language must not be empty");
            if (vallex) return RunVallex(ctx, texts, language, parse.GetValue(jsonOpt), parse.GetValue(symbolsOpt) is not null);

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

    private static int RunVallex(CliContext ctx, string[] texts, string language, bool json, bool symbols)
    {
        if (symbols) throw new UsageException("--symbols is for --frontend espeak; the vallex front end has its own vocabulary");
        if (!VallexTextFrontEnd.Languages.Contains(language))
            throw new UsageException($"--language '{language}' is not one of the vallex front end's: {string.Join(", ", VallexTextFrontEnd.Languages)}");
        return TokenizeAll(ctx, texts, text => VallexTextFrontEnd.Tokenize(text, language), t =>
        {
            if (json) ctx.Out.WriteLine(VallexJson(t));
            else
            {
                ctx.Out.WriteLine(t.Phonemes);
                ctx.Out.WriteLine(string.Join(' ', t.TokenIds));
                ctx.Out.WriteLine(string.Join(' ', t.LanguageIds));
            }
        });
    }

    /// <summary>Tokenizes every text first, so an error leaves no partial output behind, then writes each result.</summary>
    private static int TokenizeAll<T>(CliContext ctx, string[] texts, Func<string, T> tokenize, Action<T> write)
    {
        var results = new List<T>(texts.Length);
        foreach (string text in texts)
        {
            ctx.Cancellation.ThrowIfCancellationRequested();
            results.Add(tokenize(text));
        }
        foreach (T t in results) write(t);
        return ExitCodes.Success;
    }

    private static int RunEcker(CliContext ctx, string[] texts, string language, string tokenizerPath, bool json, string? lib, string? data)
    {
        if (EckerTextFrontEnd.LanguageId(language) < 0)
            throw new UsageException($"--language '{language}' is not one of the ecker front end's: {string.Join(", ", EckerTextFrontEnd.Languages)}");
        var frontEnd = EckerTextFrontEnd.Load(tokenizerPath, lib, data);
        return TokenizeAll(ctx, texts, text => frontEnd.Tokenize(text, language), t =>
        {
            if (json) ctx.Out.WriteLine(EckerJson(t));
            else
            {
                ctx.Out.WriteLine(t.Phonemes);
                ctx.Out.WriteLine(string.Join(' ', t.TokenIds));
            }
        });
    }

    /// <summary>One line of JSON: <c>{"text", "phonemes", "token_ids"}</c>, IPA unescaped.</summary>
    internal static string EckerJson(EckerTokens t) => TokensJson(t.Text, t.Phonemes, t.TokenIds, languageIds: null);

    /// <summary>One line of JSON: <c>{"text", "phonemes", "token_ids", "language_ids"}</c>, IPA unescaped.</summary>
    internal static string VallexJson(VallexTokens t) => TokensJson(t.Text, t.Phonemes, t.TokenIds, t.LanguageIds);

    private static string TokensJson(string text, string phonemes, IEnumerable<int> tokenIds, IEnumerable<int>? languageIds)
    {
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            json.WriteString("text", text);
            json.WriteString("phonemes", phonemes);
            json.WriteStartArray("token_ids");
            foreach (int id in tokenIds) json.WriteNumberValue(id);
            json.WriteEndArray();
            if (languageIds is not null)
            {
                json.WriteStartArray("language_ids");
                foreach (int id in languageIds) json.WriteNumberValue(id);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
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
