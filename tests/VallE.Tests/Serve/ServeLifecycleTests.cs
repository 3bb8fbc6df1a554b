using System.Net;
using VallE.Server;

namespace VallE.Tests.Serve;

/// <summary>
/// Readiness around the model load, a failed load, admission (429 with Retry-After when the queue is full), a client
/// that disconnects (its synthesis is cancelled), the per-request time-out, and graceful shutdown.
/// </summary>
[NonParallelizable]
public class ServeLifecycleTests
{
    private static TaskCompletionSource Hold() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Test]
    public async Task ReadyIs503UntilTheModelIsLoadedWhileHealthIs200()
    {
        var model = ServeFixture.Client;
        var release = Hold();
        await using var server = await ServeFixture.StartAsync(load: () => { release.Task.Wait(); return new TestClient(model); }, waitReady: false);
        using var http = ServeFixture.Http(server);

        Assert.That((await http.GetAsync("/health")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var ready = await http.GetAsync("/ready");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await ready.Content.ReadAsStringAsync(), Does.Contain("loading"));
        var speech = await ServeFixture.PostSpeech(http, ServeFixture.Body("Hi."));
        Assert.That(speech.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(speech.Headers.RetryAfter, Is.Not.Null);
        Assert.That((await ServeFixture.Error(speech)).GetProperty("code").GetString(), Is.EqualTo("not_ready"));
        Assert.That((await http.GetAsync("/v1/voices")).StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(ServeFixture.Metric(await http.GetStringAsync("/metrics"), "valle_ready"), Is.Zero);

        release.SetResult();
        await server.Loaded.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That((await http.GetAsync("/ready")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await ServeFixture.PostSpeech(http, ServeFixture.Body("Hi."))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AFailedLoadEndsRunWithItsException()
    {
        var server = new ValleServer(new ValleServerOptions { Host = "127.0.0.1", Port = 0 },
            () => throw new InvalidInputException("checkpoint.pt: not a checkpoint"));
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => server.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.That(e!.Message, Does.Contain("not a checkpoint"));
        Assert.That(server.IsReady, Is.False);
    }

    [Test]
    public async Task AFullQueueIs429WithRetryAfterAndNothingQueuedIsLost()
    {
        var client = new TestClient(ServeFixture.Client) { HoldBeforeStart = Hold() };
        await using var server = await ServeFixture.StartAsync(new ValleServerOptions { MaxConcurrency = 1, MaxQueue = 1 }, () => client);
        using var http = ServeFixture.Http(server);

        var first = ServeFixture.PostSpeech(http, ServeFixture.Body("Hello there."));
        await ServeFixture.Until(() => client.Started == 1, "the first request to start synthesising");
        var second = ServeFixture.PostSpeech(http, ServeFixture.Body("Go on."));
        await ServeFixture.Until(() => server.Metrics.Render().Contains("valle_queue_depth 1"), "the second request to queue");

        var third = await ServeFixture.PostSpeech(http, ServeFixture.Body("Too many."));
        Assert.That((int)third.StatusCode, Is.EqualTo(429));
        Assert.That(third.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        var error = await ServeFixture.Error(third);
        Assert.That(error.GetProperty("code").GetString(), Is.EqualTo("queue_full"));
        Assert.That(error.GetProperty("type").GetString(), Is.EqualTo("rate_limit_error"));
        string metrics = await http.GetStringAsync("/metrics");
        Assert.That(ServeFixture.Metric(metrics, "valle_in_flight"), Is.EqualTo(1));
        Assert.That(ServeFixture.Metric(metrics, "valle_queue_depth"), Is.EqualTo(1));
        Assert.That(ServeFixture.Metric(metrics, "valle_requests_total", "status=\"429\""), Is.EqualTo(1));

        client.HoldBeforeStart!.SetResult();
        Assert.That((await first).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await second).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        metrics = await http.GetStringAsync("/metrics");
        Assert.That(ServeFixture.Metric(metrics, "valle_requests_total", "status=\"200\""), Is.EqualTo(2));
        Assert.That(ServeFixture.Metric(metrics, "valle_queue_depth") + ServeFixture.Metric(metrics, "valle_in_flight"), Is.Zero);
    }

    /// <summary>
    /// A client that has its whole answer finds its request counted in /metrics, and out of the queue and in-flight
    /// gauges: the response (a body with its Content-Length, error or audio) is sent only when the endpoint returns,
    /// after that bookkeeping. Proved by holding the endpoint in its last step (the log line, written after the
    /// request is counted): the client's response cannot complete meanwhile.
    /// </summary>
    [TestCase("""{"input": "Hi.", "voice": "alloy"}""", 404)]
    [TestCase("""{"input": "Hi.", "voice": "codes", "seed": 7, "max_duration": 0.3}""", 200)]
    public async Task AResponseIsSentOnlyAfterItsRequestIsCounted(string body, int status)
    {
        using var logged = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var options = new ValleServerOptions
        {
            Log = line =>
            {
                if (!line.StartsWith("POST /v1/audio/speech", StringComparison.Ordinal)) return;
                logged.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            },
        };
        await using var server = await ServeFixture.StartAsync(options);
        using var http = ServeFixture.Http(server);
        try
        {
            var response = ServeFixture.PostSpeech(http, body);
            Assert.That(await Task.Run(() => logged.Wait(TimeSpan.FromSeconds(30))), Is.True, "the request was logged");
            Assert.That(server.Metrics.Requests(status), Is.EqualTo(1));
            await Task.Delay(300);   // time for a response sent too early to arrive (none may)
            Assert.That(response.IsCompleted, Is.False, "the client has its response before the endpoint returned");
            release.Set();
            var r = await response;
            Assert.That((int)r.StatusCode, Is.EqualTo(status), await r.Content.ReadAsStringAsync());
            Assert.That(r.Content.Headers.ContentLength, Is.EqualTo((await r.Content.ReadAsByteArrayAsync()).Length));
            string metrics = await http.GetStringAsync("/metrics");
            Assert.That(ServeFixture.Metric(metrics, "valle_requests_total", $"status=\"{status}\""), Is.EqualTo(1));
            Assert.That(ServeFixture.Metric(metrics, "valle_queue_depth") + ServeFixture.Metric(metrics, "valle_in_flight"), Is.Zero);
        }
        finally
        {
            release.Set();
        }
    }

    [Test]
    public async Task AClientThatDisconnectsCancelsItsSynthesis()
    {
        var client = new TestClient(ServeFixture.Client) { HoldBeforeSecond = Hold() };   // never released
        await using var server = await ServeFixture.StartAsync(load: () => client);
        using var http = ServeFixture.Http(server);
        using var cts = new CancellationTokenSource();
        string text = string.Join(" ", Enumerable.Range(1, 8).Select(i => $"Sentence number {i}."));
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech") { Content = ServeFixture.Json(ServeFixture.Body(text)) };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        Assert.That(await stream.ReadAsync(new byte[64], cts.Token), Is.Positive);

        cts.Cancel();             // the client goes away mid-stream
        response.Dispose();
        bool cancelled = await client.Ended.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(cancelled, Is.True, "the synthesis ended by cancellation");
        Assert.That(client.Updates, Is.EqualTo(1), "no sentence after the disconnect");
        await ServeFixture.Until(() => server.Metrics.Requests(499) == 1, "the request to be recorded as 499");
        Assert.That(server.Metrics.CancelledSyntheses, Is.EqualTo(1));
        string metrics = await http.GetStringAsync("/metrics");
        Assert.That(ServeFixture.Metric(metrics, "valle_in_flight"), Is.Zero);
        Assert.That(ServeFixture.Metric(metrics, "valle_syntheses_cancelled_total"), Is.EqualTo(1));

        // The model is free again.
        client.HoldBeforeSecond = null;
        Assert.That((await ServeFixture.PostSpeech(http, ServeFixture.Body("Hi."))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ARequestOverItsTimeIs504()
    {
        var client = new TestClient(ServeFixture.Client) { HoldBeforeStart = Hold() };   // never released
        await using var server = await ServeFixture.StartAsync(new ValleServerOptions { RequestTimeout = TimeSpan.FromSeconds(0.5) }, () => client);
        using var http = ServeFixture.Http(server);
        var r = await ServeFixture.PostSpeech(http, ServeFixture.Body("Hi."));
        Assert.That((int)r.StatusCode, Is.EqualTo(504));
        Assert.That((await ServeFixture.Error(r)).GetProperty("code").GetString(), Is.EqualTo("timeout"));
        Assert.That(await client.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(server.Metrics.CancelledSyntheses, Is.EqualTo(1));
    }

    [Test]
    public async Task ShutdownFinishesTheRequestInFlightThenStops()
    {
        var client = new TestClient(ServeFixture.Client) { HoldBeforeStart = Hold() };
        var server = await ServeFixture.StartAsync(new ValleServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(20) }, () => client);
        using var http = ServeFixture.Http(server);
        var inFlight = ServeFixture.PostSpeech(http, ServeFixture.Body("One. Two."));
        await ServeFixture.Until(() => client.Started == 1, "the request to start");

        Task stop = server.StopAsync();
        await Task.Delay(300);
        Assert.That(stop.IsCompleted, Is.False, "the server waits for the request in flight");
        Assert.That(server.IsReady, Is.False, "/ready is 503 while stopping");
        client.HoldBeforeStart!.SetResult();

        var response = await inFlight;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var wav = ServeFixture.ReadWav(await response.Content.ReadAsByteArrayAsync());
        Assert.That(wav.Frames, Is.Positive);
        await stop.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(await client.Ended.Task, Is.False, "it was not cancelled");
    }

    [Test]
    public async Task ShutdownCancelsARequestThatOutlivesTheGracePeriod()
    {
        var client = new TestClient(ServeFixture.Client) { HoldBeforeStart = Hold() };   // never released
        var server = await ServeFixture.StartAsync(new ValleServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(0.5) }, () => client);
        using var http = ServeFixture.Http(server);
        var inFlight = ServeFixture.PostSpeech(http, ServeFixture.Body("Hi."));
        await ServeFixture.Until(() => client.Started == 1, "the request to start");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(10));
        Assert.That(await client.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        try
        {
            var r = await inFlight.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.That(r.IsSuccessStatusCode, Is.False, "the cut-off request did not succeed");
        }
        catch (HttpRequestException)
        {
            // its connection was aborted
        }
    }
}
