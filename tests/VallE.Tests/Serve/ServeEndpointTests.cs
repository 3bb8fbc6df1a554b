using System.Net;
using System.Text.Json;
using VallE.Server;

namespace VallE.Tests.Serve;

/// <summary>
/// <c>valle serve</c>'s endpoints in-process on the tiny fixture model: health, readiness, voices, metrics, speech as
/// WAV and PCM, and every error class a client can cause (never a 5xx).
/// </summary>
[NonParallelizable]
public class ServeEndpointTests
{
    private ValleServer? _server;
    private HttpClient? _http;

    private HttpClient Http => _http!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _server = await ServeFixture.StartAsync(new ValleServerOptions { MaxInputChars = 200, MaxBodyBytes = 2048 });
        _http = ServeFixture.Http(_server);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _http?.Dispose();
        if (_server is not null) await _server.StopAsync();
    }

    [Test]
    public async Task HealthReadyVoicesAndMetricsAnswer()
    {
        var health = await Http.GetAsync("/health");
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await health.Content.ReadAsStringAsync(), Does.Contain("\"ok\""));

        var ready = await Http.GetAsync("/ready");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ready.Content.ReadAsStringAsync(), Does.Contain("\"ready\""));

        using var voices = JsonDocument.Parse(await Http.GetStringAsync("/v1/voices"));
        Assert.That(voices.RootElement.GetProperty("voices").EnumerateArray().Select(v => v.GetString()), Is.EqualTo(new[] { "codes", "other" }));

        var metrics = await Http.GetAsync("/metrics");
        Assert.That(metrics.Content.Headers.ContentType!.ToString(), Does.StartWith("text/plain; version=0.0.4"));
        string text = await metrics.Content.ReadAsStringAsync();
        foreach (string name in new[] { "valle_requests_total", "valle_request_duration_seconds_bucket", "valle_request_duration_seconds_count",
                     "valle_realtime_factor_bucket", "valle_queue_depth", "valle_in_flight", "valle_ready 1" })
            Assert.That(text, Does.Contain(name));
        Assert.That(text, Does.Contain("# TYPE valle_request_duration_seconds histogram"));
        Assert.That(text, Does.Contain("# TYPE valle_queue_depth gauge"));

        var missing = await Http.GetAsync("/v1/nothing");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await ServeFixture.Error(missing)).GetProperty("code").GetString(), Is.EqualTo("not_found"));
    }

    [Test]
    public async Task OneSentenceIsAWholeWavWithItsLengthAndTheSameSeedGivesTheSameBytes()
    {
        // OpenAI's request shape, model and speed 1 included.
        string body = """{"model": "tts-1", "input": "Hello there.", "voice": "codes", "speed": 1, "seed": 3, "max_duration": 0.3}""";
        var r = await ServeFixture.PostSpeech(Http, body);
        byte[] wav = await r.Content.ReadAsByteArrayAsync();
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), () => System.Text.Encoding.UTF8.GetString(wav));
        Assert.That(ServeFixture.ContentType(r)!.MediaType, Is.EqualTo("audio/wav"));
        Assert.That(r.Content.Headers.ContentLength, Is.EqualTo(wav.Length));
        var audio = ServeFixture.ReadWav(wav);
        Assert.That(audio.Format, Is.EqualTo(new VallE.Runtime.Audio.WavFormat(VallE.Runtime.Audio.WavSampleFormat.Pcm, 16, 1, 24000)));
        Assert.That(audio.Frames, Is.InRange(320, 23 * 320));

        var again = await ServeFixture.PostSpeech(Http, body);
        Assert.That(await again.Content.ReadAsByteArrayAsync(), Is.EqualTo(wav));

        var pcm = await ServeFixture.PostSpeech(Http, body.Replace("\"speed\": 1", "\"response_format\": \"pcm\""));
        Assert.That(ServeFixture.ContentType(pcm)!.MediaType, Is.EqualTo("audio/pcm"));
        Assert.That(await pcm.Content.ReadAsByteArrayAsync(), Is.EqualTo(wav[44..]));
    }

    [Test]
    public async Task AVoiceGivenAsAnObjectAndOneOfTwoVoicesWork()
    {
        var r = await ServeFixture.PostSpeech(Http, """{"input": "Hi.", "voice": {"id": "other"}, "seed": 1, "max_duration": 0.2}""");
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK), await r.Content.ReadAsStringAsync());
    }

    private static readonly object[] BadRequests =
    [
        new object[] { "{\"input\": \"Hi.\"", 400, "invalid_json" },
        new object[] { "not json at all", 400, "invalid_json" },
        new object[] { "", 400, "invalid_json" },
        new object[] { "[1, 2]", 400, "invalid_json" },
        new object[] { """{"voice": "codes"}""", 400, "missing_required_parameter" },
        new object[] { """{"input": "   ", "voice": "codes"}""", 400, "empty_input" },
        new object[] { """{"input": 12, "voice": "codes"}""", 400, "invalid_type" },
        new object[] { """{"input": "Hi.", "voice": "codes", "speed": 1.5}""", 400, "unsupported_speed" },
        new object[] { """{"input": "Hi.", "voice": "codes", "response_format": "mp3"}""", 400, "unsupported_response_format" },
        new object[] { """{"input": "Hi.", "voice": "codes", "stream_format": "sse"}""", 400, "unsupported_stream_format" },
        new object[] { """{"input": "Hi.", "voice": "codes", "seed": -1}""", 400, "invalid_value" },
        new object[] { """{"input": "Hi.", "voice": "codes", "top_k": 1.5}""", 400, "invalid_value" },
        new object[] { """{"input": "Hi.", "voice": "codes", "top_p": 2}""", 400, "invalid_value" },
        new object[] { """{"input": "Hi.", "voice": "codes", "temperature": "hot"}""", 400, "invalid_type" },
        new object[] { """{"input": "Hi.", "voice": "codes", "language": "xx-nonexistent"}""", 400, "invalid_value" },
        new object[] { """{"input": "...!?", "voice": "codes"}""", 400, "invalid_input" },
        new object[] { """{"input": "Hi."}""", 400, "missing_required_parameter" },
        new object[] { """{"input": "Hi.", "voice": "alloy"}""", 404, "voice_not_found" },
        new object[] { "{\"input\": \"" + new string('a', 201) + "\", \"voice\": \"codes\"}", 413, "input_too_long" },
        new object[] { "{\"input\": \"Hi.\", \"voice\": \"codes\", \"pad\": \"" + new string('x', 3000) + "\"}", 413, "body_too_large" },
    ];

    [TestCaseSource(nameof(BadRequests))]
    public async Task EveryClientErrorIsA4xxWithAnOpenAiStyleBody(string body, int status, string code)
    {
        var r = await ServeFixture.PostSpeech(Http, body);
        Assert.That((int)r.StatusCode, Is.EqualTo(status), await r.Content.ReadAsStringAsync());
        var error = await ServeFixture.Error(r);
        Assert.That(error.GetProperty("code").GetString(), Is.EqualTo(code));
        Assert.That(error.GetProperty("type").GetString(), Is.EqualTo("invalid_request_error"));
    }

    [Test]
    public async Task ABodyOverTheLimitWithoutContentLengthIs413()
    {
        // Chunked upload: Kestrel's body limit, not the Content-Length check, refuses it.
        var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"input\": \"" + new string('y', 5000) + "\"}")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        var r = await Http.SendAsync(request);
        Assert.That((int)r.StatusCode, Is.EqualTo(413), await r.Content.ReadAsStringAsync());
        Assert.That((await ServeFixture.Error(r)).GetProperty("code").GetString(), Is.EqualTo("body_too_large"));
    }

    [Test]
    public async Task RequestsAreCountedByStatusInTheMetrics()
    {
        string before = await Http.GetStringAsync("/metrics");
        await ServeFixture.PostSpeech(Http, """{"input": "Hi.", "voice": "alloy"}""");
        await ServeFixture.PostSpeech(Http, ServeFixture.Body("Hi."));
        string after = await Http.GetStringAsync("/metrics");
        Assert.That(ServeFixture.Metric(after, "valle_requests_total", "status=\"404\"") - ServeFixture.Metric(before, "valle_requests_total", "status=\"404\""), Is.EqualTo(1));
        Assert.That(ServeFixture.Metric(after, "valle_requests_total", "status=\"200\"") - ServeFixture.Metric(before, "valle_requests_total", "status=\"200\""), Is.EqualTo(1));
        Assert.That(ServeFixture.Metric(after, "valle_realtime_factor_count"), Is.GreaterThan(ServeFixture.Metric(before, "valle_realtime_factor_count")));
        Assert.That(ServeFixture.Metric(after, "valle_audio_seconds_total"), Is.GreaterThan(0));
        Assert.That(ServeFixture.Metric(after, "valle_in_flight"), Is.Zero);
    }
}
