using Ort = Microsoft.ML.OnnxRuntime;

namespace VallE.Runtime.Onnx;

/// <summary>
/// Lets a <see cref="CancellationToken"/> stop a run already in progress. Each run gets its own
/// <see cref="Ort.RunOptions"/>; cancelling the token sets their <see cref="Ort.RunOptions.Terminate"/> flag, which
/// ONNX Runtime checks before each node, so the run fails soon after (a single long node still finishes first).
/// </summary>
internal sealed class OrtRunCancellation : IDisposable
{
    private readonly CancellationTokenRegistration _registration;

    /// <summary>The options to pass to <c>Run</c>.</summary>
    public Ort.RunOptions Options { get; }

    public OrtRunCancellation(CancellationToken token)
    {
        Options = new Ort.RunOptions { LogSeverityLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (!token.CanBeCanceled) return;
        // Registered after the options exist: a token cancelled already runs the callback here, and the run then
        // stops before its first node.
        _registration = token.Register(static state => Terminate((Ort.RunOptions)state!), Options);
    }

    private static void Terminate(Ort.RunOptions options)
    {
        // Runs on whichever thread cancels the token, so it must not throw there.
        try { options.Terminate = true; }
        catch (Ort.OnnxRuntimeException) { }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        // Unregistering waits for a callback in progress on another thread, so the options outlive it.
        _registration.Dispose();
        Options.Dispose();
    }
}
