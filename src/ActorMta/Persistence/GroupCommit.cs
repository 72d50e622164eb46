using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace ActorMta.Persistence;

/// <summary>
/// One writer for an SQLite file that commits whatever writes are waiting in one
/// transaction: SQLite has a single writer anyway, and with FULL sync every commit costs an
/// fsync, so twenty sessions accepting at once pay for one commit instead of twenty. Each
/// write runs in a savepoint of its own, so one failing write (a duplicate key) fails alone,
/// and its caller hears back only after the commit is on disk.
/// </summary>
sealed class GroupCommit : IDisposable
{
    const int MaxBatch = 256;
    readonly Channel<Write> _writes = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    readonly Func<SqliteConnection> _open;
    readonly Task _loop;

    public GroupCommit(Func<SqliteConnection> open)
    {
        _open = open;
        _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> work)
    {
        var write = new Write<T>(work);
        if (!_writes.Writer.TryWrite(write))
            throw new ObjectDisposedException(nameof(GroupCommit));
        return write.Completion.Task;
    }

    void Run()
    {
        var batch = new List<Write>(MaxBatch);
        using var connection = _open();
        while (_writes.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var write))
                batch.Add(write);
            try
            {
                using var transaction = connection.BeginTransaction();
                foreach (var write in batch)
                    write.Execute(connection);
                transaction.Commit();
                foreach (var write in batch)
                    write.Committed();
            }
            catch (Exception e)
            {
                foreach (var write in batch)
                    write.Failed(e);
            }
        }
    }

    public void Dispose()
    {
        _writes.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }

    abstract class Write
    {
        public abstract void Execute(SqliteConnection connection);
        public abstract void Committed();
        public abstract void Failed(Exception e);
    }

    sealed class Write<T>(Func<SqliteConnection, T> work) : Write
    {
        T _result = default!;
        Exception? _error;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteConnection connection)
        {
            Run(connection, "SAVEPOINT w");
            try
            {
                _result = work(connection);
                Run(connection, "RELEASE w");
            }
            catch (SqliteException e)
            {
                // This write alone is undone; the others in the batch still commit.
                Run(connection, "ROLLBACK TO w; RELEASE w");
                _error = e;
            }
        }

        public override void Committed()
        {
            if (_error is null)
                Completion.TrySetResult(_result);
            else
                Completion.TrySetException(_error);
        }

        public override void Failed(Exception e) => Completion.TrySetException(e);

        static void Run(SqliteConnection connection, string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }
}
