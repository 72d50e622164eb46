using ActorMta.Persistence;
using ActorMta.Protocol;

namespace ActorMta.Benchmarks.Persistence;

/// <summary>Every call the benchmarks make into <see cref="QueueStore"/>, in one place.</summary>
static class QueueCalls
{
    /// <summary>Accepts a message: its body and its index row with a one-recipient envelope, due at <paramref name="dueAt"/>.</summary>
    public static Task Store(QueueStore store, string queueId, byte[] body, DateTimeOffset now, DateTimeOffset dueAt) =>
        store.StoreAsync(new MessageAccepted(queueId, "sender@foreign.test", [new RecipientAddress("alice@example.test", "alice@example.test")], "client.foreign.test [192.0.2.7]", now, body.Length), body, dueAt);

    public static Task<IReadOnlyList<string>> ClaimDue(QueueStore store, DateTimeOffset now, DateTimeOffset leaseUntil, int limit) =>
        store.ClaimDueAsync(now, leaseUntil, limit);

    public static Task Reschedule(QueueStore store, string queueId, DateTimeOffset dueAt) =>
        store.RescheduleAsync(queueId, dueAt, QueueStore.Deferred);

    public static Task Remove(QueueStore store, string queueId) => store.RemoveAsync(queueId);
}
