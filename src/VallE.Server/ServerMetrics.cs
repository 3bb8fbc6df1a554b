using System.Globalization;
using System.Text;

namespace VallE.Server;

/// <summary>
/// The server's counters, rendered by hand in the Prometheus text exposition format 0.0.4 (<c>GET /metrics</c>).
/// Thread-safe. Names (the contract, documented in docs/serving.md):
/// <c>valle_requests_total{status}</c> (speech requests by HTTP status; 499 = the client went away),
/// <c>valle_request_duration_seconds</c> (histogram, arrival to last byte),
/// <c>valle_time_to_first_audio_seconds</c> (histogram), <c>valle_realtime_factor</c> (histogram: synthesis wall
/// time / audio seconds, below 1 is faster than real time), <c>valle_audio_seconds_total</c>,
/// <c>valle_syntheses_cancelled_total</c>, <c>valle_queue_depth</c>, <c>valle_in_flight</c>, <c>valle_ready</c>,
/// <c>valle_max_concurrency</c>, <c>valle_max_queue</c>.
/// </summary>
public sealed class ServerMetrics
{
    private static readonly double[] DurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly double[] RtfBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16];

    private readonly Lock _lock = new();
    private readonly SortedDictionary<int, long> _byStatus = new();
    private readonly Histogram _duration = new(DurationBuckets);
    private readonly Histogram _firstAudio = new(DurationBuckets);
    private readonly Histogram _rtf = new(RtfBuckets);
    private double _audioSeconds;
    private long _cancelled;

    internal Func<int> QueueDepth { get; set; } = () => 0;
    internal Func<int> InFlight { get; set; } = () => 0;
    internal Func<bool> Ready { get; set; } = () => false;
    internal int MaxConcurrency { get; set; }
    internal int MaxQueue { get; set; }

    /// <summary>Speech requests answered with <paramref name="status"/> so far.</summary>
    public long Requests(int status) { lock (_lock) return _byStatus.GetValueOrDefault(status); }

    /// <summary>Syntheses stopped because their client went away or their time ran out.</summary>
    public long CancelledSyntheses => Interlocked.Read(ref _cancelled);

    internal void RecordRequest(int status, double seconds)
    {
        lock (_lock)
        {
            _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;
            _duration.Observe(seconds);
        }
    }

    internal void RecordFirstAudio(double seconds) { lock (_lock) _firstAudio.Observe(seconds); }

    internal void RecordSynthesis(double wallSeconds, double audioSeconds)
    {
        lock (_lock)
        {
            _audioSeconds += audioSeconds;
            if (audioSeconds > 0) _rtf.Observe(wallSeconds / audioSeconds);
        }
    }

    internal void RecordCancelled() => Interlocked.Increment(ref _cancelled);

    /// <summary>The exposition text (<c>text/plain; version=0.0.4</c>).</summary>
    public string Render()
    {
        var s = new StringBuilder();
        lock (_lock)
        {
            Header(s, "valle_requests_total", "counter", "Speech requests (POST /v1/audio/speech) by HTTP status; 499: the client disconnected.");
            if (_byStatus.Count == 0) s.Append("valle_requests_total{status=\"200\"} 0\n");
            foreach (var (status, n) in _byStatus) s.Append(CultureInfo.InvariantCulture, $"valle_requests_total{{status=\"{status}\"}} {n}\n");
            _duration.Render(s, "valle_request_duration_seconds", "Speech request duration, arrival to last byte (queueing included).");
            _firstAudio.Render(s, "valle_time_to_first_audio_seconds", "Arrival to the first audio byte of successful speech requests.");
            _rtf.Render(s, "valle_realtime_factor", "Synthesis wall time / audio seconds per successful request (below 1: faster than real time).");
            Header(s, "valle_audio_seconds_total", "counter", "Seconds of audio sent.");
            s.Append("valle_audio_seconds_total ").Append(Num(_audioSeconds)).Append('\n');
        }
        Header(s, "valle_syntheses_cancelled_total", "counter", "Syntheses stopped because the client disconnected or the request timed out.");
        s.Append(CultureInfo.InvariantCulture, $"valle_syntheses_cancelled_total {CancelledSyntheses}\n");
        Gauge(s, "valle_queue_depth", "Speech requests waiting for a synthesis slot.", QueueDepth());
        Gauge(s, "valle_in_flight", "Speech requests synthesising now.", InFlight());
        Gauge(s, "valle_ready", "1 when the model is loaded and the server accepts speech requests.", Ready() ? 1 : 0);
        Gauge(s, "valle_max_concurrency", "--max-concurrency.", MaxConcurrency);
        Gauge(s, "valle_max_queue", "--max-queue.", MaxQueue);
        return s.ToString();
    }

    private static void Header(StringBuilder s, string name, string type, string help) =>
        s.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Gauge(StringBuilder s, string name, string help, long value)
    {
        Header(s, name, "gauge", help);
        s.Append(CultureInfo.InvariantCulture, $"{name} {value}\n");
    }

    internal static string Num(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A cumulative Prometheus histogram (caller holds the lock).</summary>
    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length];
        private long _count;
        private double _sum;

        public void Observe(double v)
        {
            for (int i = 0; i < bounds.Length; i++) if (v <= bounds[i]) _counts[i]++;
            _count++;
            _sum += v;
        }

        public void Render(StringBuilder s, string name, string help)
        {
            Header(s, name, "histogram", help);
            for (int i = 0; i < bounds.Length; i++)
                s.Append(name).Append("_bucket{le=\"").Append(Num(bounds[i])).Append("\"} ").Append(_counts[i]).Append('\n');
            s.Append(name).Append("_bucket{le=\"+Inf\"} ").Append(_count).Append('\n');
            s.Append(name).Append("_sum ").Append(Num(_sum)).Append('\n');
            s.Append(name).Append("_count ").Append(_count).Append('\n');
        }
    }
}
