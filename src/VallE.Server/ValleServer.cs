using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VallE.Runtime.Audio;

namespace VallE.Server;

/// <summary>
/// The <c>valle serve</c> HTTP server: ASP.NET Core Kestrel with minimal APIs in front of ONE text-to-speech client
/// (a <see cref="ValleSpeechClient"/>, loaded by the factory given to the constructor).
/// <list type="bullet">
/// <item><c>POST /v1/audio/speech</c>: OpenAI's request shape (<see cref="SpeechRequest"/>), answered with
/// <c>audio/wav</c> (24 kHz mono PCM16) or <c>audio/pcm</c> (s16le). One sentence: one body with Content-Length.
/// Several: chunked, each sentence written as soon as it is synthesised
/// (<see cref="ValleSpeechClient.GetStreamingAudioAsync"/>), 0.2 s of silence between them, the WAV header with the
/// "length unknown" sizes 0xFFFFFFFF.</item>
/// <item><c>GET /v1/voices</c>, <c>GET /health</c> (200 while the process serves), <c>GET /ready</c> (200 once the
/// model is loaded; 503 before and while stopping), <c>GET /metrics</c> (<see cref="ServerMetrics"/>).</item>
/// </list>
/// Kestrel starts first and the model loads in the background, so <c>/health</c> answers during a long load.
/// Admission (<see cref="ValleServerOptions.MaxConcurrency"/>, <see cref="ValleServerOptions.MaxQueue"/>), limits,
/// time-outs and error statuses: docs/serving.md. A client that disconnects cancels its synthesis.
/// </summary>
public sealed class ValleServer : IAsyncDisposable
{
    private const int Loading = 0, Ready = 1, Stopping = 2, Stopped = 3, Failed = 4;
    private static readonly byte[] StreamingWavHeader = MakeStreamingWavHeader();

    private readonly ValleServerOptions _options;
    private readonly Func<ITextToSpeechClient> _load;
    private readonly Admission _admission;
    private readonly Lock _stateLock = new();
    private WebApplication? _app;
    private ITextToSpeechClient? _client;
    private string[] _voices = [];
    private int _state = Loading;
    private Task _loaded = Task.CompletedTask;
    private Task? _stopping;
    private double _typicalSeconds = 1;   // moving average of a successful request's synthesis time, for Retry-After

    /// <param name="options">Validated here (<see cref="ArgumentException"/>) and read once.</param>
    /// <param name="loadClient">Loads the model; runs once, on the thread pool, after the server listens. The server
    /// owns (and disposes) what it returns.</param>
    public ValleServer(ValleServerOptions options, Func<ITextToSpeechClient> loadClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loadClient);
        options.Validate();
        _options = options;
        _load = loadClient;
        _admission = new Admission(options.MaxConcurrency, options.MaxQueue);
        Metrics = new ServerMetrics
        {
            QueueDepth = () => _admission.QueueDepth,
            InFlight = () => _admission.InFlight,
            Ready = () => IsReady,
            MaxConcurrency = options.MaxConcurrency,
            MaxQueue = options.MaxQueue,
        };
    }

    public ServerMetrics Metrics { get; }

    /// <summary>Where the server listens (<c>http://127.0.0.1:PORT</c>), once started.</summary>
    public Uri? Address { get; private set; }

    /// <summary>True once the model is loaded, until shutdown begins.</summary>
    public bool IsReady => Volatile.Read(ref _state) == Ready;

    /// <summary>Completes when the model is loaded; faults with the load's exception.</summary>
    public Task Loaded => _loaded;

    /// <summary>The voices the loaded client speaks with (empty before).</summary>
    public IReadOnlyList<string> Voices => _voices;

    /// <summary>
    /// Listens (an <see cref="IOException"/> when the address is taken), then starts loading the model in the
    /// background (<see cref="Loaded"/>).
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null) throw new InvalidOperationException("the server was already started");
        _app = Build();
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(address);
        Log($"listening on {address} (loading the model)");
        _loaded = Task.Run(LoadModel, CancellationToken.None);
    }

    /// <summary>
    /// Starts, serves until <paramref name="stop"/> (Ctrl-C, SIGTERM), then stops gracefully. Rethrows a failed
    /// model load (after stopping).
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        await StartAsync(CancellationToken.None).ConfigureAwait(false);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (stop.Register(() => stopped.TrySetResult()))
        {
            Task first = await Task.WhenAny(_loaded, stopped.Task).ConfigureAwait(false);
            if (first == _loaded && _loaded.IsFaulted)
            {
                await StopAsync().ConfigureAwait(false);
                ExceptionDispatchInfo.Throw(_loaded.Exception!.InnerException!);
            }
            await stopped.Task.ConfigureAwait(false);
        }
        Log("stopping: finishing requests in flight");
        await StopAsync().ConfigureAwait(false);
        Log("stopped");
    }

    /// <summary>
    /// Graceful shutdown: <c>/ready</c> turns 503, no new connections are accepted, requests in flight (and queued)
    /// get <see cref="ValleServerOptions.ShutdownTimeout"/> to finish, then their connections are aborted (which
    /// cancels their syntheses) and the client is disposed. Idempotent.
    /// </summary>
    public Task StopAsync()
    {
        lock (_stateLock)
        {
            return _stopping ??= StopCore();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCore()
    {
        lock (_stateLock) if (_state != Failed) _state = Stopping;
        if (_app is not null)
        {
            using var grace = new CancellationTokenSource(_options.ShutdownTimeout);
            try { await _app.StopAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            catch (AggregateException) { }
        }
        try { await _loaded.ConfigureAwait(false); } catch { /* reported by RunAsync / Loaded */ }
        ITextToSpeechClient? client;
        lock (_stateLock)
        {
            client = _client;
            _client = null;
            if (_state != Failed) _state = Stopped;
        }
        client?.Dispose();   // cancels a synthesis still running past the grace period
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
    }

    private void LoadModel()
    {
        var clock = Stopwatch.StartNew();
        ITextToSpeechClient client;
        try
        {
            client = _load();
        }
        catch (Exception e)
        {
            lock (_stateLock) _state = Failed;
            Log($"model load failed: {e.Message}");
            throw;
        }
        var voices = (client.GetService<ValleSpeechClient>()?.VoiceIds ?? []).Order(StringComparer.Ordinal).ToArray();
        lock (_stateLock)
        {
            if (_state != Loading)
            {
                client.Dispose();   // stopped while loading
                return;
            }
            _client = client;
            _voices = voices;
            _state = Ready;
        }
        string device = client.GetService<ValleSpeechClient>()?.Device is { } d ? $" on {d}" : "";
        Log(string.Format(CultureInfo.InvariantCulture, "ready: model loaded{0} in {1:F2} s; voices: {2}",
            device, clock.Elapsed.TotalSeconds, voices.Length == 0 ? "(none listed)" : string.Join(", ", voices)));
    }

    private void Log(string line) => _options.Log?.Invoke(line);

    // ---- the web application ----

    private WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "valle",
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        // No console lifetime: the host installs no signal handlers (valle serve maps SIGTERM/Ctrl-C to RunAsync's
        // token; the tests run servers in-process).
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = _options.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = _options.MaxBodyBytes;
            Listen(k, _options.Host, _options.Port);
        });
        var app = builder.Build();
        app.Lifetime.ApplicationStopping.Register(() => { lock (_stateLock) if (_state == Ready || _state == Loading) _state = Stopping; });
        app.MapGet("/health", new RequestDelegate(http => ApiErrors.WriteJson(http, 200, w => w.WriteString("status", "ok"))));
        app.MapGet("/ready", new RequestDelegate(ReadyEndpoint));
        app.MapGet("/metrics", new RequestDelegate(MetricsEndpoint));
        app.MapGet("/v1/voices", new RequestDelegate(VoicesEndpoint));
        app.MapPost("/v1/audio/speech", new RequestDelegate(SpeechEndpoint));
        app.MapFallback(new RequestDelegate(http =>
            ApiErrors.WriteError(http, 404, "not_found", $"no such endpoint: {http.Request.Method} {http.Request.Path}")));
        return app;
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions k, string host, int port)
    {
        // Validate has checked the host.
        string h = host.Trim();
        if (h.Equals("localhost", StringComparison.OrdinalIgnoreCase)) k.ListenLocalhost(port);
        else if (h is "*" or "+") k.ListenAnyIP(port);
        else k.Listen(IPAddress.Parse(h.Trim('[', ']')), port);
    }

    private string StateName => Volatile.Read(ref _state) switch
    {
        Loading => "loading",
        Ready => "ready",
        Failed => "failed",
        _ => "stopping",
    };

    private Task ReadyEndpoint(HttpContext http) =>
        ApiErrors.WriteJson(http, IsReady ? 200 : 503, w => w.WriteString("status", StateName));

    private Task MetricsEndpoint(HttpContext http)
    {
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return http.Response.WriteAsync(Metrics.Render(), http.RequestAborted);
    }

    private Task VoicesEndpoint(HttpContext http)
    {
        if (!IsReady) return NotReady(http);
        return ApiErrors.WriteJson(http, 200, w =>
        {
            w.WriteStartArray("voices");
            foreach (string v in _voices) w.WriteStringValue(v);
            w.WriteEndArray();
        });
    }

    private Task NotReady(HttpContext http) => Volatile.Read(ref _state) == Loading
        ? ApiErrors.WriteError(http, 503, "not_ready", "the model is still loading; retry shortly (GET /ready turns 200 when it is loaded)", retryAfterSeconds: 5)
        : ApiErrors.WriteError(http, 503, "shutting_down", "the server is shutting down", retryAfterSeconds: 5);

    // ---- POST /v1/audio/speech ----

    private async Task SpeechEndpoint(HttpContext http)
    {
        var clock = Stopwatch.StartNew();
        var outcome = new Outcome();
        try
        {
            outcome.Status = await Speech(http, clock, outcome).ConfigureAwait(false);
        }
        finally
        {
            // Runs before the client can have the end of its response: a body with a Content-Length is left unflushed
            // (ApiErrors.WriteJson, Synthesize) and a chunked one ends with the chunk Kestrel writes after this
            // endpoint returns. So a client that got its answer finds it counted, and out of the queue and in-flight
            // gauges (Speech's finally), in /metrics. The duration ends when the last byte is handed to Kestrel.
            if (outcome.Status == 0) outcome.Status = 500;
            double seconds = clock.Elapsed.TotalSeconds;
            Metrics.RecordRequest(outcome.Status, seconds);
            if (_options.Log is not null)
                Log(string.Format(CultureInfo.InvariantCulture, "POST /v1/audio/speech {0} {1:F2} s{2}{3}",
                    outcome.Status, seconds,
                    outcome.AudioSeconds > 0 ? string.Format(CultureInfo.InvariantCulture, " audio {0:F2} s ({1} chars, voice {2})", outcome.AudioSeconds, outcome.Chars, outcome.Voice ?? "-") : "",
                    outcome.Note is null ? "" : " " + outcome.Note));
        }
    }

    private sealed class Outcome
    {
        public int Status;
        public double AudioSeconds;
        public int Chars;
        public string? Voice;
        public string? Note;
    }

    private async Task<int> Speech(HttpContext http, Stopwatch clock, Outcome outcome)
    {
        if (!IsReady)
        {
            await NotReady(http).ConfigureAwait(false);
            return 503;
        }
        ITextToSpeechClient? client = _client;
        if (client is null) { await NotReady(http).ConfigureAwait(false); return 503; }

        using var timeout = new CancellationTokenSource(_options.RequestTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, timeout.Token);
        CancellationToken token = linked.Token;
        bool aborted() => http.RequestAborted.IsCancellationRequested;

        // 1. The request: body, fields, voice. Nothing queued yet.
        SpeechRequest request;
        try
        {
            if (http.Request.ContentLength > _options.MaxBodyBytes)
                throw new ApiException(413, "body_too_large", $"the request body has {http.Request.ContentLength} bytes; this server takes at most {_options.MaxBodyBytes} (--max-body-bytes)");
            JsonDocument doc;
            try
            {
                doc = await JsonDocument.ParseAsync(http.Request.Body, default, token).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new ApiException(400, "invalid_json", $"the request body is not valid JSON: {e.Message}");
            }
            catch (BadHttpRequestException e) when (e.StatusCode == 413)
            {
                throw new ApiException(413, "body_too_large", $"the request body is larger than {_options.MaxBodyBytes} bytes (--max-body-bytes)");
            }
            catch (BadHttpRequestException e)
            {
                throw new ApiException(e.StatusCode is >= 400 and < 500 ? e.StatusCode : 400, "bad_request", e.Message);
            }
            using (doc) request = SpeechRequest.Parse(doc.RootElement, _options.MaxInputChars);
            outcome.Chars = request.Input.Length;
            outcome.Voice = request.Voice;
            CheckVoice(request.Voice);
        }
        catch (ApiException e)
        {
            await ApiErrors.WriteError(http, e.Status, e.Code, e.Message, e.Param).ConfigureAwait(false);
            return e.Status;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted())
        {
            outcome.Note = "(client went away)";
            return 499;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            await ApiErrors.WriteError(http, 408, "request_timeout", "the request body did not arrive in time").ConfigureAwait(false);
            return 408;
        }

        // 2. Admission: a place in the queue or 429 at once.
        if (!_admission.TryAdmit())
        {
            int retry = RetryAfterSeconds();
            await ApiErrors.WriteError(http, 429, "queue_full",
                $"the server is busy: {_options.MaxConcurrency} request(s) synthesising and {_options.MaxQueue} waiting (--max-concurrency, --max-queue); retry after {retry} s",
                retryAfterSeconds: retry).ConfigureAwait(false);
            return 429;
        }
        bool entered = false, started = false;
        try
        {
            await _admission.EnterAsync(token).ConfigureAwait(false);
            entered = true;
            var synthClock = Stopwatch.StartNew();
            int status = await Synthesize(http, client, request, token, clock, outcome, () => started = true).ConfigureAwait(false);
            if (status == 200)
            {
                double seconds = synthClock.Elapsed.TotalSeconds;
                Metrics.RecordSynthesis(seconds, outcome.AudioSeconds);
                lock (_stateLock) _typicalSeconds = 0.8 * _typicalSeconds + 0.2 * seconds;
            }
            return status;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted())
        {
            if (entered) Metrics.RecordCancelled();
            outcome.Note = entered ? "(client went away: synthesis cancelled)" : "(client went away while queued)";
            return 499;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            if (entered) Metrics.RecordCancelled();
            string message = $"the request took longer than {_options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (--request-timeout){(entered ? "" : " waiting in the queue")}";
            outcome.Note = "(timed out)";
            if (started) { http.Abort(); return 504; }
            await ApiErrors.WriteError(http, 504, "timeout", message).ConfigureAwait(false);
            return 504;
        }
        catch (ArgumentException e) when (!started)
        {
            // The library's checks of the request's values (top_p out of range, unknown language, ...).
            var (message, param) = Describe(e);
            await ApiErrors.WriteError(http, 400, "invalid_value", message, param).ConfigureAwait(false);
            return 400;
        }
        catch (InvalidInputException e) when (e is not NativeDependencyException && !started)
        {
            // Text the front end cannot speak (nothing to say, an utterance over the model's limit).
            await ApiErrors.WriteError(http, 400, "invalid_input", e.Message, "input").ConfigureAwait(false);
            return 400;
        }
        catch (ObjectDisposedException) when (!started)
        {
            await ApiErrors.WriteError(http, 503, "shutting_down", "the server is shutting down", retryAfterSeconds: 5).ConfigureAwait(false);
            return 503;
        }
        catch (Exception e)
        {
            Log($"error: {e.GetType().Name}: {e.Message}");
            outcome.Note = $"({e.GetType().Name}: {e.Message})";
            if (started) { http.Abort(); return 500; }
            await ApiErrors.WriteError(http, 500, "internal_error", $"synthesis failed: {e.Message}").ConfigureAwait(false);
            return 500;
        }
        finally
        {
            _admission.Leave(entered);
        }
    }

    private async Task<int> Synthesize(HttpContext http, ITextToSpeechClient client, SpeechRequest request,
        CancellationToken token, Stopwatch clock, Outcome outcome, Action markStarted)
    {
        // One sentence: one utterance, sent whole with its length. Several: streamed as each is synthesised.
        bool streamed = Runtime.Text.SentenceSplitter.Split(request.Input).Count > 1;
        var options = new ValleSpeechOptions
        {
            VoiceId = request.Voice,
            AudioFormat = request.Pcm || streamed ? "pcm" : "wav",
            Language = request.Language,
            Seed = request.Seed,
            TopK = request.TopK,
            TopP = request.TopP,
            Temperature = request.Temperature,
            RepetitionPenalty = request.RepetitionPenalty,
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
            SplitSentences = streamed,
        };
        HttpResponse response = http.Response;
        bool first = true;
        long pcmBytes = 0;
        int gapBytes = 2 * (int)(ValleSpeechClient.SentenceGapSeconds * ValleSpeechClient.SampleRate);
        await foreach (var update in client.GetStreamingAudioAsync(request.Input, options, token).ConfigureAwait(false))
        {
            ReadOnlyMemory<byte> audio = update.Contents.OfType<DataContent>().First().Data;
            if (first)
            {
                response.StatusCode = 200;
                response.ContentType = request.Pcm ? "audio/pcm" : "audio/wav";
                response.Headers.CacheControl = "no-store";
                response.Headers["X-Sample-Rate"] = "24000";
                if (!streamed) response.ContentLength = audio.Length;
                markStarted();
                if (streamed && !request.Pcm) await response.Body.WriteAsync(StreamingWavHeader, token).ConfigureAwait(false);
                Metrics.RecordFirstAudio(clock.Elapsed.TotalSeconds);
            }
            else
            {
                await response.Body.WriteAsync(new byte[gapBytes], token).ConfigureAwait(false);
                pcmBytes += gapBytes;
            }
            if (streamed)
            {
                await response.Body.WriteAsync(audio, token).ConfigureAwait(false);
                await response.Body.FlushAsync(token).ConfigureAwait(false);
            }
            else
            {
                // The whole body, with its Content-Length: left unflushed in the response's buffer, so Kestrel sends it
                // when SpeechEndpoint returns, after the request is counted and has left admission; a client that has
                // its audio sees it in /metrics (as ApiErrors.WriteJson does for errors). A streamed response ends with
                // its last chunk, which Kestrel also writes only when the endpoint returns.
                response.BodyWriter.Write(audio.Span);
            }
            pcmBytes += audio.Length - (request.Pcm || streamed ? 0 : StreamingWavHeader.Length);
            outcome.AudioSeconds = pcmBytes / 2.0 / ValleSpeechClient.SampleRate;
            first = false;
        }
        if (first) throw new InvalidOperationException("the client returned no audio");
        return 200;
    }

    private void CheckVoice(string? voice)
    {
        string[] voices = _voices;
        if (voices.Length == 0) return;   // a client that does not list its voices: it judges the name itself
        if (voice is null)
        {
            if (voices.Length == 1) return;
            throw new ApiException(400, "missing_required_parameter", $"'voice' is required: this server has {voices.Length} voices ({string.Join(", ", voices)})", "voice");
        }
        if (Array.IndexOf(voices, voice) < 0)
            throw new ApiException(404, "voice_not_found", $"voice '{voice}' does not exist (voices: {string.Join(", ", voices)}; GET /v1/voices)", "voice");
    }

    /// <summary>An <see cref="ArgumentException"/> of the library in the request's terms: "TopP 2 must be ..." becomes "top_p 2 must be ...".</summary>
    private static (string Message, string? Param) Describe(ArgumentException e)
    {
        string message = e.Message;
        string? param = null;
        if (e.ParamName is { Length: > 0 } name)
        {
            string suffix = $" (Parameter '{name}')";
            int at = message.IndexOf(suffix, StringComparison.Ordinal);
            if (at >= 0) message = message.Remove(at, suffix.Length);
            if (SpeechRequest.Fields.TryGetValue(name, out string? field))
            {
                param = field;
                if (message.StartsWith(name + " ", StringComparison.Ordinal)) message = field + message[name.Length..];
            }
        }
        if (param is null)
        {
            // Checks that name the whole options object (BestOf, PromptMode): the message starts with the property.
            foreach (var (property, field) in SpeechRequest.Fields)
            {
                if (!message.StartsWith(property + " ", StringComparison.Ordinal)) continue;
                param = field;
                message = field + message[property.Length..];
                break;
            }
        }
        if (message.StartsWith("Language: ", StringComparison.Ordinal)) { message = message["Language: ".Length..]; param = "language"; }
        int actual = message.IndexOf("\nActual value was", StringComparison.Ordinal);
        if (actual >= 0) message = message[..actual];
        return (message.Trim(), param);
    }

    private int RetryAfterSeconds()
    {
        double typical;
        lock (_stateLock) typical = _typicalSeconds;
        double wait = typical * (_admission.QueueDepth + 1) / _options.MaxConcurrency;
        return (int)Math.Clamp(Math.Ceiling(wait), 1, 3600);
    }

    private static byte[] MakeStreamingWavHeader()
    {
        // The repository's streaming WAV header (sizes 0xFFFFFFFF: length unknown), as WavStreamWriter writes on a pipe.
        var header = new MemoryStream();
        _ = new WavStreamWriter(header, ValleSpeechClient.SampleRate, WavOutputFormat.Pcm16);
        return header.ToArray();
    }

    /// <summary>A host lifetime that installs no signal handlers.</summary>
    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
