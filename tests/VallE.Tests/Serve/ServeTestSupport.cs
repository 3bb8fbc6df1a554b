using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using VallE.Server;
using VallE.Tests.Codec;
using VallE.Tests.Support;
using VallE.Tests.Text;

namespace VallE.Tests.Serve;

#pragma warning disable MEAI001 // ITextToSpeechClient is experimental in Microsoft.Extensions.AI 11.

/// <summary>Disposes the one model the Serve tests share.</summary>
[SetUpFixture]
public sealed class ServeSetUp
{
    [OneTimeTearDown]
    public void TearDown() => ServeFixture.DisposeShared();
}

/// <summary>
/// The Serve tests' model and servers: ONE <see cref="ValleSpeechClient"/> on the valle-tiny fixture (symbols, the
/// tiny checkpoint, its prompt codes as two voices "codes" and "other", the random EnCodec decoder; CPU, one thread),
/// loaded once and lent to every server through <see cref="TestClient"/>, and servers on 127.0.0.1 with a free port.
/// Skips (with the reason) where espeak-ng, the fixtures or the exported codec are absent.
/// </summary>
internal static class ServeFixture
{
    private static readonly Lock Gate = new();
    private static ValleSpeechClient? s_client;

    public static ValleSpeechClient Client
    {
        get
        {
            EspeakTestSupport.RequireEspeak();
            string codes = TestPaths.RequireShared("valle", "valle-tiny", "prompt_codes.npy");
            var options = new ValleSpeechClientOptions
            {
                Checkpoint = TestPaths.RequireShared("valle", "valle-tiny", "checkpoint.pt"),
                Symbols = TestPaths.RequireShared("text", "unique_text_tokens.k2symbols"),
                CodecDecoder = EncodecTestModels.Decoder,
                Device = "cpu",
                Threads = 1,
            };
            options.Voices["codes"] = ValleVoice.FromCodes(codes, "Go to her.");
            options.Voices["other"] = ValleVoice.FromCodes(codes, "Go to her, now.");
            lock (Gate) return s_client ??= new ValleSpeechClient(options);
        }
    }

    public static void DisposeShared()
    {
        lock (Gate)
        {
            s_client?.Dispose();
            s_client = null;
        }
    }

    /// <summary>A started server on a free loopback port; by default lent the shared model and ready.</summary>
    public static async Task<ValleServer> StartAsync(ValleServerOptions? options = null, Func<ITextToSpeechClient>? load = null, bool waitReady = true)
    {
        options ??= new ValleServerOptions();
        options.Host = "127.0.0.1";
        options.Port = 0;
        if (load is null)
        {
            var client = Client;   // skips here, before anything listens, when the fixtures are absent
            load = () => new TestClient(client);
        }
        var server = new ValleServer(options, load);
        await server.StartAsync();
        if (waitReady) await server.Loaded.WaitAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    public static HttpClient Http(ValleServer server) =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>A speech request body; short audio (max_duration 0.3 s per sentence) with a fixed seed.</summary>
    public static string Body(string input, string? voice = "codes", string? format = null, int seed = 7, double maxDuration = 0.3)
    {
        var body = new Dictionary<string, object?> { ["model"] = "valle-tiny", ["input"] = input, ["seed"] = seed, ["max_duration"] = maxDuration };
        if (voice is not null) body["voice"] = voice;
        if (format is not null) body["response_format"] = format;
        return JsonSerializer.Serialize(body);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> PostSpeech(HttpClient http, string json, CancellationToken token = default) =>
        http.PostAsync("/v1/audio/speech", Json(json), token);

    /// <summary>The error object of an OpenAI-style error response (checks the shape).</summary>
    public static async Task<JsonElement> Error(HttpResponseMessage response)
    {
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), await response.Content.ReadAsStringAsync());
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error").Clone();
        Assert.That(error.GetProperty("message").GetString(), Is.Not.Empty);
        Assert.That(error.GetProperty("type").GetString(), Is.Not.Empty);
        Assert.That(error.GetProperty("code").GetString(), Is.Not.Empty);
        return error;
    }

    /// <summary>The value of an unlabelled metric (or one with <paramref name="labels"/>), 0 when absent.</summary>
    public static double Metric(string metrics, string name, string labels = "")
    {
        string prefix = labels.Length == 0 ? name + " " : $"{name}{{{labels}}} ";
        foreach (string line in metrics.Split('\n'))
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (fails after <paramref name="seconds"/>).</summary>
    public static async Task Until(Func<bool> condition, string what, double seconds = 20)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed.TotalSeconds > seconds) Assert.Fail($"timed out after {seconds} s waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Parses WAV bytes with the repository's reader (through a temporary file).</summary>
    public static VallE.Runtime.Audio.WavAudio ReadWav(byte[] bytes)
    {
        using var dir = TestPaths.CreateTempDir();
        File.WriteAllBytes(dir.File("a.wav"), bytes);
        return VallE.Runtime.Audio.WavReader.Read(dir.File("a.wav"));
    }

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage r) => r.Content.Headers.ContentType;
}

/// <summary>
/// Lends the shared client to one server (whose Dispose must not release the shared model) and gives the tests
/// hooks: holds before synthesis starts and before the second sentence (awaited with the request's token, so a
/// disconnect or time-out ends them), and what happened to each call.
/// </summary>
internal sealed class TestClient(ITextToSpeechClient inner) : ITextToSpeechClient
{
    private int _started, _updates;

    /// <summary>Awaited before the inner client is asked for anything.</summary>
    public TaskCompletionSource? HoldBeforeStart { get; set; }
    /// <summary>Awaited after the first sentence was handed to the server.</summary>
    public TaskCompletionSource? HoldBeforeSecond { get; set; }
    public int Started => Volatile.Read(ref _started);
    public int Updates => Volatile.Read(ref _updates);
    /// <summary>Set when a call ends: true when it ended cancelled before its last sentence.</summary>
    public TaskCompletionSource<bool> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.GetAudioAsync(text, options, cancellationToken);

    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _started);
        bool completed = false;
        try
        {
            if (HoldBeforeStart is { } start) await start.Task.WaitAsync(cancellationToken);
            int n = 0;
            await foreach (var update in inner.GetStreamingAudioAsync(text, options, cancellationToken))
            {
                n++;
                Interlocked.Increment(ref _updates);
                yield return update;
                if (n == 1 && HoldBeforeSecond is { } hold) await hold.Task.WaitAsync(cancellationToken);
            }
            completed = true;
        }
        finally
        {
            Ended.TrySetResult(!completed && cancellationToken.IsCancellationRequested);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => inner.GetService(serviceType, serviceKey);

    public void Dispose() { }   // the shared model outlives every server
}
