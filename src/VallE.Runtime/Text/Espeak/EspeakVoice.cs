namespace VallE.Runtime.Text.Espeak;

/// <summary>
/// One voice of the installed espeak-ng, as phonemizer sees it: <see cref="Language"/> is the voice's first
/// language code (e.g. <c>en-us</c>), the code that selects it; <see cref="Identifier"/> is its file below
/// espeak-ng-data/voices (e.g. <c>gmw/en-US</c>).
/// </summary>
public sealed record EspeakVoice(string Name, string Language, string Identifier);

/// <summary>What was loaded: the library file, its version and the data folder espeak-ng reads.</summary>
public sealed record EspeakInfo(string LibraryPath, string Version, string DataPath);
