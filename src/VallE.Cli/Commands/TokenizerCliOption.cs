using System.CommandLine;
using VallE.Runtime.Text.Ecker;

namespace VallE.Cli.Commands;

/// <summary>
/// <c>--tokenizer FILE</c>: e-c-k-e-r/vall-e's <c>data/tokenizer.json</c>, a runtime input (upstream's repository is
/// AGPL-3.0: the file is not shipped), else <c>$VALLE_ECKER_TOKENIZER</c>. Shared by <c>phonemize</c>, <c>synth</c> and
/// <c>serve</c>; a missing one is a usage error naming both ways to give it.
/// </summary>
internal sealed class TokenizerCliOption
{
    private readonly Option<string?> _option = new("--tokenizer")
    {
        HelpName = "FILE",
        Description = $"e-c-k-e-r/vall-e: upstream's data/tokenizer.json (not shipped; default: ${EckerTextFrontEnd.TokenizerEnvironmentVariable}).",
    };

    public void AddTo(Command command) => command.Options.Add(_option);

    /// <summary>The flag's value as given (null when absent; no environment fallback).</summary>
    public string? Given(ParseResult parse) => parse.GetValue(_option);

    /// <summary>The path from the flag or the environment; a <see cref="UsageException"/> saying <paramref name="who"/> needs it.</summary>
    public string Require(ParseResult parse, string who) =>
        EckerTextFrontEnd.TokenizerPath(parse.GetValue(_option))
        ?? throw new UsageException($"{who} needs upstream's tokenizer.json: --tokenizer FILE or ${EckerTextFrontEnd.TokenizerEnvironmentVariable} " +
            "(e-c-k-e-r/vall-e's data/tokenizer.json; not shipped: AGPL-3.0)");
}
