using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace VallE.Native;

#pragma warning disable MEAI001 // ITextToSpeechClient and its types are experimental in Microsoft.Extensions.AI 11.

/// <summary>
/// What a <c>valle_engine *</c> points to (through a GCHandle): one <see cref="ValleSpeechClient"/> and the
/// cancellation source of <c>valle_cancel</c>. Everything the engine does is the client's: this class only turns
/// JSON into the client's options and the client's PCM16 output into float samples.
/// </summary>
internal sealed unsafe class NativeEngine : IDisposable
{
    private readonly ValleSpeechClient _client;
    private readonly Lock _cancelLock = new();
    private CancellationTokenSource _cancel = new();

    private NativeEngine(ValleSpeechClient client) => _client = client;

    /// <summary>Parses the options JSON and loads the client (model, codec, symbols, voices).</summary>
    public static NativeEngine Open(ReadOnlySpan<byte> optionsJson)
    {
        var json = Parse(optionsJson, NativeJsonContext.Default.EngineOptionsJson, "options_json");
        var options = new ValleSpeechClientOptions
        {
            Checkpoint = Required(json.Checkpoint, "checkpoint"),
            Symbols = json.Symbols,
            Tokenizer = json.Tokenizer,
            CodecDecoder = Required(json.CodecDecoder, "codec_decoder"),
            CodecEncoder = json.CodecEncoder,
            Device = json.Device ?? "auto",
            Threads = json.Threads,
        };
        if (json.Language is not null) options.Language = json.Language;
        if (json.MaxPromptSeconds is { } seconds) options.MaxPromptSeconds = seconds;
        if (json.Voices is null || json.Voices.Count == 0)
            throw new UsageException("options_json: \"voices\" must name at least one voice, e.g. \"voices\": {\"anna\": {\"wav\": \"anna.wav\", \"transcript\": \"...\"}}");
        foreach (var (name, voice) in json.Voices)
        {
            if (voice is null) throw new UsageException($"options_json: voice \"{name}\" is null");
            if (voice.Preset is { } preset)
            {
                if (voice.Wav is not null || voice.Codes is not null || voice.Transcript is not null || voice.Language is not null)
                    throw new UsageException($"options_json: voice \"{name}\" is a preset: it carries its transcript and language (no \"wav\", \"codes\", \"transcript\" or \"language\" with \"preset\")");
                options.Voices[name] = ValleVoice.FromPreset(preset);
                continue;
            }
            // No transcript: a recording alone, for e-c-k-e-r/vall-e (the client refuses it for the other families).
            string? transcript = voice.Transcript;
            if (transcript is null && voice.Language is not null)
                throw new UsageException($"options_json: voice \"{name}\" has a \"language\" but no \"transcript\"");
            options.Voices[name] = (voice.Wav, voice.Codes) switch
            {
                ({ } wav, null) => transcript is null ? ValleVoice.FromWav(wav) : ValleVoice.FromWav(wav, transcript, voice.Language),
                (null, { } codes) => transcript is null ? ValleVoice.FromCodes(codes) : ValleVoice.FromCodes(codes, transcript, voice.Language),
                _ => throw new UsageException($"options_json: voice \"{name}\" needs exactly one of \"wav\", \"codes\" and \"preset\""),
            };
        }
        return new NativeEngine(new ValleSpeechClient(options));
    }

    /// <summary>
    /// Synthesises one request, calling <paramref name="onAudio"/> on this thread once per sentence
    /// (<c>"sentences": true</c>) or once. Throws what the client throws; <c>valle_cancel</c> cancels it.
    /// </summary>
    public void Synthesize(ReadOnlySpan<byte> requestJson, delegate* unmanaged<float*, nuint, int, void*, void> onAudio, void* user)
    {
        var request = Parse(requestJson, NativeJsonContext.Default.SynthesisRequestJson, "request_json");
        string text = request.Text ?? throw new UsageException("request_json: \"text\" is required");
        if (string.IsNullOrWhiteSpace(text)) throw new InputException("request_json: \"text\" is empty");
        if (request.Voice is { } voice && !_client.VoiceIds.Contains(voice))
            throw new InputException($"unknown voice \"{voice}\" (voices: {string.Join(", ", _client.VoiceIds.Order(StringComparer.Ordinal))})");
        if (request.Voice is null && _client.VoiceIds.Count != 1)
            throw new UsageException($"request_json: \"voice\" is required: this engine has {_client.VoiceIds.Count} voices ({string.Join(", ", _client.VoiceIds.Order(StringComparer.Ordinal))})");

        bool sentences = request.Sentences ?? false;
        var options = new ValleSpeechOptions
        {
            VoiceId = request.Voice,
            Language = request.Language,
            AudioFormat = "pcm",
            Seed = request.Seed,
            TopK = request.TopK,
            TopP = request.TopP,
            Temperature = request.Temperature,
            MinP = request.MinP,
            RepetitionPenalty = request.RepetitionPenalty,
            RepetitionWindow = request.RepetitionWindow,
            MaxDuration = request.MaxDuration,
            BestOf = request.BestOf,
            PromptMode = request.PromptMode,
            Mode = request.Mode,
            Length = request.Length,
            DemaskSteps = request.DemaskSteps,
            CfgStrength = request.CfgStrength,
            CfgRescale = request.CfgRescale,
            NarTemperature = request.NarTemperature,
            MinArTemperature = request.MinArTemperature,
            MinNarTemperature = request.MinNarTemperature,
            RepetitionPenaltyDecay = request.RepetitionPenaltyDecay,
            LengthPenalty = request.LengthPenalty,
            SplitSentences = sentences,
        };
        CancellationToken token;
        lock (_cancelLock) token = _cancel.Token;

        if (!sentences)
        {
            TextToSpeechResponse response = _client.GetAudioAsync(text, options, token).GetAwaiter().GetResult();
            Deliver(response.Contents, onAudio, user);
            return;
        }
        IAsyncEnumerator<TextToSpeechResponseUpdate> updates = _client.GetStreamingAudioAsync(text, options, token).GetAsyncEnumerator(token);
        try
        {
            while (updates.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                Deliver(updates.Current.Contents, onAudio, user);
                token.ThrowIfCancellationRequested();   // cancelled from on_audio or while it ran: stop before the next sentence
            }
        }
        finally
        {
            updates.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Cancels every call that has started on this engine (running or waiting for its turn); calls that start later
    /// get a fresh token. The old source is not disposed: a call may still be linking to it.
    /// </summary>
    public void Cancel()
    {
        CancellationTokenSource old;
        lock (_cancelLock)
        {
            old = _cancel;
            _cancel = new CancellationTokenSource();
        }
        old.Cancel();
    }

    /// <summary>Cancels a call in progress, waits for it to stop, releases the model (the client's Dispose).</summary>
    public void Dispose() => _client.Dispose();

    /// <summary>The client's audio/pcm content (s16le, 24 kHz mono) as floats in [-1, 1), handed to the host.</summary>
    private static void Deliver(IList<AIContent> contents, delegate* unmanaged<float*, nuint, int, void*, void> onAudio, void* user)
    {
        foreach (var content in contents)
        {
            if (content is not DataContent data) continue;
            ReadOnlySpan<byte> pcm = data.Data.Span;
            int count = pcm.Length / 2;
            float[] samples = GC.AllocateUninitializedArray<float>(Math.Max(1, count));
            for (int i = 0; i < count; i++)
                samples[i] = (short)(pcm[2 * i] | (pcm[2 * i + 1] << 8)) * (1f / 32768f);
            fixed (float* p = samples) onAudio(p, (nuint)count, ValleSpeechClient.SampleRate, user);
        }
    }

    private static T Parse<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> type, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, type) ?? throw new UsageException($"{what} must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{what}: {Describe(e)}");
        }
    }

    /// <summary>The serializer's error in the ABI's terms: JSON field names and types, not .NET members.</summary>
    private static string Describe(JsonException e)
    {
        string message = OneLine(e.Message);
        string at = e.Path is { Length: > 1 } path ? $" at {path}" : "";
        const string Unknown = "The JSON property '";
        if (message.StartsWith(Unknown, StringComparison.Ordinal) && message.IndexOf('\'', Unknown.Length) is int end and > 0)
            return $"unknown field \"{message[Unknown.Length..end]}\"{at} (see docs/embedding.md for the fields)";
        if (message.Contains("could not be converted to", StringComparison.Ordinal))
        {
            string expected =
                message.Contains("Int32", StringComparison.Ordinal) ? "an integer" :
                message.Contains("UInt64", StringComparison.Ordinal) ? "an integer >= 0" :
                message.Contains("Double", StringComparison.Ordinal) || message.Contains("Single", StringComparison.Ordinal) ? "a number" :
                message.Contains("Boolean", StringComparison.Ordinal) ? "true or false" :
                message.Contains("String", StringComparison.Ordinal) ? "a string" :
                "a JSON object";
            return $"wrong type{at}: expected {expected}";
        }
        // Syntax errors: the reader's message (it ends with the path, line and byte position).
        return $"malformed JSON: {message}";
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new UsageException($"options_json: \"{field}\" is required") : value;

    private static string OneLine(string text)
    {
        int nl = text.IndexOfAny(['\r', '\n']);
        return nl < 0 ? text : text[..nl];
    }

    /// <summary>The engine behind a handle the host passed in (NULL: a usage error).</summary>
    public static NativeEngine FromHandle(nint handle, string function) =>
        handle == 0 ? throw new UsageException($"{function}: engine is NULL")
            : (NativeEngine)(GCHandle.FromIntPtr(handle).Target ?? throw new UsageException($"{function}: engine was closed"));
}
