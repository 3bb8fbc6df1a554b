using VallE.Runtime.Audio;

namespace VallE;

/// <summary>
/// What a <see cref="ValleSpeechClient"/> loads. Read once by the constructor: later changes (voices included) do not
/// affect a client already made.
/// </summary>
public sealed class ValleSpeechClientOptions
{
    /// <summary>VALL-E checkpoint (<c>.pt</c>, converted folder or <c>.safetensors</c>) or e-c-k-e-r/vall-e <c>.sft</c>. Required.</summary>
    public string? Checkpoint { get; set; }
    /// <summary>
    /// k2 symbol table the model was trained with (<c>unique_text_tokens.k2symbols</c>). Required for lifeiteng
    /// VALL-E / VALL-F checkpoints; VALL-E X checkpoints need none (their front end is their own BPE tokenizer).
    /// </summary>
    public string? Symbols { get; set; }
    /// <summary>
    /// e-c-k-e-r/vall-e checkpoints (<c>.sft</c>): upstream's <c>data/tokenizer.json</c> (its phoneme BPE; not shipped:
    /// AGPL-3.0). Null: <c>$VALLE_ECKER_TOKENIZER</c>. Required for those checkpoints, refused for the others.
    /// </summary>
    public string? Tokenizer { get; set; }
    /// <summary>Decoder ONNX model: EnCodec's or Vocos (tools/export_vocos_onnx.py), same codes. Required.</summary>
    public string? CodecDecoder { get; set; }
    /// <summary>
    /// What <see cref="CodecDecoder"/> should be (<c>--vocoder</c>): a model whose metadata declares another vocoder is
    /// refused. Null: whatever the file is.
    /// </summary>
    public VallE.Runtime.Codec.Vocoder? Vocoder { get; set; }
    /// <summary>EnCodec encoder ONNX model; required when a voice is a WAV recording (<see cref="ValleVoice.FromWav(string, string, string?)"/>).</summary>
    public string? CodecEncoder { get; set; }
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>auto</c> (CUDA when a usable GPU and a supported checkpoint, else the CPU). The codec always runs on the CPU.</summary>
    public string Device { get; set; } = "auto";
    /// <summary>CPU threads of the model and the codec; null = all cores.</summary>
    public int? Threads { get; set; }
    /// <summary>The voices by id (<see cref="Microsoft.Extensions.AI.TextToSpeechOptions.VoiceId"/>); ordinal, case-sensitive.</summary>
    public IDictionary<string, ValleVoice> Voices { get; } = new Dictionary<string, ValleVoice>(StringComparer.Ordinal);
    /// <summary>
    /// Language of the text when a call gives no <c>Language</c>: an espeak-ng language for lifeiteng models (null:
    /// <c>en-us</c>); for VALL-E X en, zh, ja, mix (the text carries <c>[EN]</c>.. tags) or auto (null: auto); for
    /// e-c-k-e-r/vall-e en, ja, de, fr, zh or ko (null: en).
    /// </summary>
    public string? Language { get; set; }
    /// <summary>Longest voice recording accepted, in seconds.</summary>
    public double MaxPromptSeconds { get; set; } = PromptAudio.DefaultMaxPromptSeconds;
    /// <summary>Progress of every call (a call's <see cref="ValleSpeechOptions.Progress"/> replaces it); may be null.</summary>
    public IProgress<ValleProgress>? Progress { get; set; }
    /// <summary>Informational lines (e.g. <c>auto</c> falling back to the CPU); may be null.</summary>
    public Action<string>? Log { get; set; }
}
