namespace VallE.Server;

/// <summary>
/// How <see cref="ValleServer"/> listens and what it admits. Every limit has a <c>valle serve</c> flag of the same
/// meaning (docs/serving.md). Checked by <see cref="Validate"/> (<see cref="ArgumentException"/> naming the property).
/// </summary>
public sealed class ValleServerOptions
{
    /// <summary>An IP address (<c>127.0.0.1</c>, <c>0.0.0.0</c>, <c>::</c>) or <c>localhost</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (see <see cref="ValleServer.Address"/>).</summary>
    public int Port { get; set; } = 8080;
    /// <summary>Requests synthesising at once. The engine serialises calls (sentence by sentence), so more than 1
    /// only interleaves streaming requests' sentences.</summary>
    public int MaxConcurrency { get; set; } = 1;
    /// <summary>Requests waiting for a synthesis slot; one more is refused at once with 429 and Retry-After.</summary>
    public int MaxQueue { get; set; } = 16;
    /// <summary>Longest <c>input</c> in UTF-16 code units (characters for most text); longer is 413.</summary>
    public int MaxInputChars { get; set; } = 4096;
    /// <summary>Largest request body in bytes; larger is 413.</summary>
    public long MaxBodyBytes { get; set; } = 64 * 1024;
    /// <summary>From arrival to the last byte (queueing included); past it a request that has sent nothing gets 504,
    /// one that is streaming is cut off.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(300);
    /// <summary>On shutdown, how long in-flight (and queued) requests may take to finish before they are cancelled.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Informational lines (listening, ready, one access line per speech request, errors); null = none.</summary>
    public Action<string>? Log { get; set; }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Checks every setting: <see cref="ArgumentException"/> whose ParamName is the property.</summary>
    public void Validate()
    {
        string host = Host?.Trim() ?? "";
        bool localhost = host.Equals("localhost", StringComparison.OrdinalIgnoreCase);
        if (!localhost && host is not ("*" or "+") && !System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _))
            throw new ArgumentException($"Host '{Host}' must be an IP address (127.0.0.1, 0.0.0.0, ::) or localhost", nameof(Host));
        if (Port is < 0 or > 65535) throw new ArgumentException($"Port {Port} must be 0..65535", nameof(Port));
        if (localhost && Port == 0) throw new ArgumentException("Port 0 (any free port) needs an IP address as Host (e.g. 127.0.0.1), not localhost", nameof(Port));
        if (MaxConcurrency is < 1 or > 1024) throw new ArgumentException($"MaxConcurrency {MaxConcurrency} must be 1..1024", nameof(MaxConcurrency));
        if (MaxQueue is < 0 or > 100_000) throw new ArgumentException($"MaxQueue {MaxQueue} must be 0..100000", nameof(MaxQueue));
        if (MaxInputChars is < 1 or > 10_000_000) throw new ArgumentException($"MaxInputChars {MaxInputChars} must be 1..10000000", nameof(MaxInputChars));
        if (MaxBodyBytes is < 64 or > 1L << 30) throw new ArgumentException($"MaxBodyBytes {MaxBodyBytes} must be 64..1073741824", nameof(MaxBodyBytes));
        if (!(RequestTimeout > TimeSpan.Zero) || RequestTimeout > TimeSpan.FromDays(1))
            throw new ArgumentException($"RequestTimeout {Seconds(RequestTimeout)} s must be in (0, 86400]", nameof(RequestTimeout));
        if (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout > TimeSpan.FromDays(1))
            throw new ArgumentException($"ShutdownTimeout {Seconds(ShutdownTimeout)} s must be in [0, 86400]", nameof(ShutdownTimeout));
    }
}
