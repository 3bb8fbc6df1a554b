namespace VallE.Server;

/// <summary>
/// Admission control: at most <c>maxConcurrency</c> requests synthesise, at most <c>maxQueue</c> wait; a request
/// beyond both is refused at once (<see cref="TryAdmit"/> false: 429). Queue depth and in-flight count are the
/// <c>valle_queue_depth</c> / <c>valle_in_flight</c> gauges.
/// </summary>
internal sealed class Admission(int maxConcurrency, int maxQueue)
{
    private readonly SemaphoreSlim _slots = new(maxConcurrency, maxConcurrency);
    private readonly Lock _lock = new();
    private int _admitted;   // waiting + running
    private int _running;

    public int InFlight => Volatile.Read(ref _running);
    public int QueueDepth { get { lock (_lock) return _admitted - _running; } }

    /// <summary>Takes a place (running or waiting), or false when all are taken.</summary>
    public bool TryAdmit()
    {
        lock (_lock)
        {
            if (_admitted >= maxConcurrency + maxQueue) return false;
            _admitted++;
            return true;
        }
    }

    /// <summary>Waits for a synthesis slot (the admitted request leaves the queue).</summary>
    public async Task EnterAsync(CancellationToken token)
    {
        await _slots.WaitAsync(token).ConfigureAwait(false);
        lock (_lock) _running++;
    }

    /// <summary>Gives back the place taken by <see cref="TryAdmit"/> and the slot if <see cref="EnterAsync"/> succeeded.</summary>
    public void Leave(bool entered)
    {
        lock (_lock)
        {
            if (entered) _running--;
            _admitted--;
        }
        if (entered) _slots.Release();
    }
}
