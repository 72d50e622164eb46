using ActorMta.Persistence;
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

    public void Dispose()
    {
        Store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
