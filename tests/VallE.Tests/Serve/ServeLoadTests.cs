using System.Diagnostics;
using System.Net;
using VallE.Server;

namespace VallE.Tests.Serve;

/// <summary>
/// A small load test: 8 concurrent clients x 3 requests each against the tiny model, with a small queue (some are
/// refused with 429) and with a queue large enough for all. Every request is answered 200, 429 or 503 and counted in
/// /metrics; p50/p95 latency and requests/s are printed (the numbers in docs/serving.md come from here).
/// </summary>
[NonParallelizable]
public class ServeLoadTests
{
    private const int Clients = 8, PerClient = 3;

    [TestCase(1, 2)]
    [TestCase(1, 16)]
    public async Task ConcurrentClientsAreAllAnswered(int maxConcurrency, int maxQueue)
    {
        await using var server = await ServeFixture.StartAsync(new ValleServerOptions { MaxConcurrency = maxConcurrency, MaxQueue = maxQueue });
        using var http = ServeFixture.Http(server);
        Assert.That((await ServeFixture.PostSpeech(http, ServeFixture.Body("Warm up."))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        string before = await http.GetStringAsync("/metrics");

        var results = new List<(int Status, double Seconds)>();
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < PerClient; i++)
            {
                var clock = Stopwatch.StartNew();
                var r = await ServeFixture.PostSpeech(http, ServeFixture.Body("Hello there, how are you?", seed: c * 10 + i));
                byte[] body = await r.Content.ReadAsByteArrayAsync();
                double seconds = clock.Elapsed.TotalSeconds;
                if (r.StatusCode == HttpStatusCode.OK) Assert.That(body.Length, Is.GreaterThan(44));
                lock (results) results.Add(((int)r.StatusCode, seconds));
            }
        })));
        double wallSeconds = wall.Elapsed.TotalSeconds;

        Assert.That(results, Has.Count.EqualTo(Clients * PerClient), "nothing lost");
        Assert.That(results.Select(r => r.Status), Is.All.AnyOf(200, 429, 503));
        var ok = results.Where(r => r.Status == 200).Select(r => r.Seconds).Order().ToArray();
        int refused = results.Count(r => r.Status != 200);
        if (maxQueue >= Clients) Assert.That(refused, Is.Zero, "a queue as large as the clients refuses nothing");
        Assert.That(ok, Is.Not.Empty);

        string after = await http.GetStringAsync("/metrics");
        double Delta(string status) => ServeFixture.Metric(after, "valle_requests_total", $"status=\"{status}\"") - ServeFixture.Metric(before, "valle_requests_total", $"status=\"{status}\"");
        Assert.That(Delta("200"), Is.EqualTo(ok.Length));
        Assert.That(Delta("429") + Delta("503"), Is.EqualTo(refused));
        Assert.That(ServeFixture.Metric(after, "valle_queue_depth") + ServeFixture.Metric(after, "valle_in_flight"), Is.Zero);

        double P(double q) => ok[Math.Min(ok.Length - 1, (int)Math.Ceiling(q * ok.Length) - 1)];
        double rtf = ServeFixture.Metric(after, "valle_realtime_factor_sum") / Math.Max(1, ServeFixture.Metric(after, "valle_realtime_factor_count"));
        TestContext.Progress.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"serve load (max-concurrency {maxConcurrency}, max-queue {maxQueue}, {Clients} clients x {PerClient}): {ok.Length} x 200, {refused} refused; latency p50 {P(0.5) * 1000:F0} ms, p95 {P(0.95) * 1000:F0} ms; {ok.Length / wallSeconds:F1} requests/s over {wallSeconds:F2} s; mean RTF {rtf:F3}"));
    }
}
