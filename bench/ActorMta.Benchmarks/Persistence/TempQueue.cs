using ActorMta.Persistence;
using ActorMta.Protocol;
using Microsoft.Data.Sqlite;

namespace ActorMta.Benchmarks.Persistence;

/// <summary>
/// A <see cref="QueueStore"/> on a fresh SQLite file in a directory of its own under the
/// system temp directory: a real disk here, so commits pay for their fsync as in production.
/// </summary>
sealed class TempQueue : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("actormta-bench-").FullName;

    public TempQueue()
    {
        Store = new QueueStore(Path.Combine(_directory, "queue.db"));
        Store.Initialize();
    }

    public QueueStore Store { get; }

    /// <summary>Accepts a message as the edge does: its body, and its index row with a one-recipient envelope.</summary>
    public Task Accept(string queueId, byte[] body, DateTimeOffset now, DateTimeOffset dueAt) =>
        Store.StoreAsync(new MessageAccepted(queueId, "sender@foreign.test", [new RecipientAddress("alice@example.test", "alice@example.test")], "client.foreign.test [192.0.2.7]", now, body.Length), body, dueAt);

    public void Dispose()
    {
        Store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
