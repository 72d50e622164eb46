using System.Net;
using ActorMta.Config;

namespace ActorMta.Edge;

/// <summary>
/// Failed AUTH attempts per client address: <c>max-failures</c> within <c>failure-window</c>
/// lock the address out for <c>lockout</c>. A success does not wipe the count, so a guesser
/// with one valid account cannot reset it.
/// </summary>
public sealed class AuthThrottle(AuthSettings settings, TimeProvider clock)
{
    // Addresses kept before expired entries are swept out, so a spray from many addresses stays bounded.
    const int SweepAbove = 10_000;

    readonly Lock _lock = new();
    readonly Dictionary<IPAddress, Record> _clients = [];

    public TimeSpan FailureDelay => settings.FailureDelay;

    /// <summary>When the lockout of <paramref name="client"/> ends, or null if it is not locked out.</summary>
    public DateTimeOffset? LockedUntil(IPAddress client)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
            return _clients.TryGetValue(client, out var record) && record.LockedUntil > now ? record.LockedUntil : null;
    }

    /// <returns>The end of the lockout this failure started, or null.</returns>
    public DateTimeOffset? RecordFailure(IPAddress client)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (_clients.Count > SweepAbove)
                Sweep(now);
            if (!_clients.TryGetValue(client, out var record))
                _clients[client] = record = new Record();
            record.Failures.Enqueue(now);
            while (record.Failures.Peek() <= now - settings.FailureWindow)
                record.Failures.Dequeue();
            if (record.Failures.Count < settings.MaxFailures)
                return null;
            record.Failures.Clear();
            record.LockedUntil = now + settings.Lockout;
            return record.LockedUntil;
        }
    }

    void Sweep(DateTimeOffset now)
    {
        foreach (var (client, record) in _clients.ToList())
        {
            if (record.LockedUntil <= now && record.Failures.All(f => f <= now - settings.FailureWindow))
                _clients.Remove(client);
        }
    }

    sealed class Record
    {
        public Queue<DateTimeOffset> Failures { get; } = new();
        public DateTimeOffset LockedUntil { get; set; }
    }
}
