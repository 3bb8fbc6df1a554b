namespace VallE.Runtime.Onnx;

/// <summary>
/// Lets a <see cref="CancellationToken"/> stop an <c>OrtApi::Run</c> already in progress. The run gets its own
/// <c>OrtRunOptions</c>; cancelling the token sets their terminate flag, which ONNX Runtime checks before each node,
/// so the run returns an error status soon after (a single long node still finishes first). Without a cancellable
/// token nothing is created and the run gets null options, exactly as before.
/// </summary>
internal sealed unsafe class OrtRunCancellation : IDisposable
{
    private readonly OrtRunOptionsHandle? _options;
    private readonly CancellationTokenRegistration _registration;

    /// <summary>The <c>OrtRunOptions*</c> to pass to <c>Run</c> (0 when the token cannot be cancelled).</summary>
    public nint Options => _options?.DangerousGetHandle() ?? 0;

    public OrtRunCancellation(CancellationToken token)
    {
        if (!token.CanBeCanceled) return;
        _options = new OrtRunOptionsHandle();
        nint options;
        OrtLibrary.Check(((delegate* unmanaged<nint*, nint>)OrtLibrary.Api[OrtNative.CreateRunOptions])(&options));
        _options.Own(options);
        // Registered after the options exist: a token cancelled already runs the callback here, and the run then
        // stops before its first node.
        _registration = token.Register(static state => Terminate((OrtRunOptionsHandle)state!), _options);
    }

    private static void Terminate(OrtRunOptionsHandle options)
    {
        // Runs on whichever thread cancels the token, so it must not throw there; setting a flag cannot
        // reasonably fail, and a status it did return is released unread.
        nint status = ((delegate* unmanaged<nint, nint>)OrtLibrary.Api[OrtNative.RunOptionsSetTerminate])(options.DangerousGetHandle());
        if (status != 0) ((delegate* unmanaged<nint, void>)OrtLibrary.Api[OrtNative.ReleaseStatus])(status);
    }

    public void Dispose()
    {
        // Unregistering waits for a callback in progress on another thread, so the options outlive it.
        _registration.Dispose();
        _options?.Dispose();
    }
}
