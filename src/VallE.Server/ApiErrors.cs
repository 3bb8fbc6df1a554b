using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace VallE.Server;

/// <summary>
/// A request the server refuses, with the HTTP status and OpenAI-style error <c>code</c> (and <c>param</c>, the
/// request field at fault, when there is one).
/// </summary>
internal sealed class ApiException(int status, string code, string message, string? param = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string? Param { get; } = param;
}

/// <summary>JSON responses, errors in OpenAI's shape: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
internal static class ApiErrors
{
    /// <summary>OpenAI's error <c>type</c> for a status.</summary>
    public static string TypeOf(int status) => status switch
    {
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public static Task WriteError(HttpContext http, int status, string code, string message, string? param = null, int? retryAfterSeconds = null)
    {
        if (retryAfterSeconds is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteJson(http, status, w =>
        {
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", TypeOf(status));
            if (param is null) w.WriteNull("param"); else w.WriteString("param", param);
            w.WriteString("code", code);
            w.WriteEndObject();
        });
    }

    // Messages quote names ('alloy', "..."): keep them readable instead of \u0027 (the body is never embedded in HTML).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Sets the status and writes the JSON body into the response's buffer WITHOUT flushing it: Kestrel sends the
    /// response (headers and body) when the endpoint returns. Why: a speech request is counted in <c>/metrics</c> and
    /// leaves the admission gauges at the end of its endpoint (<see cref="ValleServer"/>'s SpeechEndpoint); had the
    /// body been flushed here, a client could read its whole answer (it has a Content-Length) and scrape
    /// <c>/metrics</c> before its request was counted. Nothing is written to the socket here, so nothing can fail.
    /// </summary>
    public static Task WriteJson(HttpContext http, int status, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = buffer.WrittenCount;
        http.Response.BodyWriter.Write(buffer.WrittenSpan);
        return Task.CompletedTask;
    }
}
