using ActorMta.Persistence;

namespace ActorMta.Benchmarks.Persistence;

/// <summary>
/// Every call the benchmarks make into <see cref="QueueStore"/>, in one place, so a change to
/// its signatures (StoreAsync is to take the serialized envelope too) is made here once.
/// </summary>
static class QueueCalls
{
    /// <summary>Stores a body and its index row, due at <paramref name="dueAt"/>.</summary>
    public static Task Store(QueueStore store, string queueId, byte[] body, DateTimeOffset now, DateTimeOffset dueAt) =>
        store.StoreAsync(queueId, body, now, dueAt, CancellationToken.None);

    public static Task<IReadOnlyList<string>> ClaimDue(QueueStore store, DateTimeOffset now, DateTimeOffset leaseUntil, int limit) =>
        store.ClaimDueAsync(now, leaseUntil, limit);

    public static Task Reschedule(QueueStore store, string queueId, DateTimeOffset dueAt) =>
        store.RescheduleAsync(queueId, dueAt, QueueStore.Deferred);

    public static Task Remove(QueueStore store, string queueId) => store.RemoveAsync(queueId);
}
