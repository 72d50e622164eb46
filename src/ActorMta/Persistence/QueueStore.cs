using System.Text.Json;
using ActorMta.Protocol;
using Microsoft.Data.Sqlite;

namespace ActorMta.Persistence;

/// <summary>One row of the queue index: the durable schedule of a message, and the record of its acceptance.</summary>
/// <param name="State">
/// <see cref="QueueStore.New"/> when accepted, <see cref="QueueStore.Active"/> while a node that
/// claimed it works on it, <see cref="QueueStore.Deferred"/> while it waits for a retry.
/// </param>
/// <param name="Accepted">The envelope; null only in rows of queues older than this column, whose journal has it.</param>
public sealed record QueueEntry(string QueueId, DateTimeOffset DueAt, string State, DateTimeOffset CreatedAt, MessageAccepted? Accepted);

/// <summary>
/// Message bodies and the queue index, in one SQLite file beside the journal. Accepting a
/// message is one transaction here: the body, and the index row that carries the envelope
/// (<see cref="MessageAccepted"/>); the edge answers 250 once it is committed. The row is
/// removed with the body once the message is done, so a crash at any point leaves it
/// findable by the scheduler, and its journal holds only what happened after acceptance.
/// Writes are group-committed (<see cref="GroupCommit"/>): twenty sessions accepting at once
/// share one fsync. Reads run beside them on their own connections (WAL).
/// </summary>
public sealed class QueueStore : IDisposable
{
    public const string New = "new";
    public const string Active = "active";
    public const string Deferred = "deferred";

    readonly string _path;
    readonly string _connectionString;
    readonly Lazy<GroupCommit> _writer;

    public QueueStore(string path)
    {
        _path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _writer = new Lazy<GroupCommit>(() => new GroupCommit(Open));
    }

    public void Dispose()
    {
        if (_writer.IsValueCreated)
            _writer.Value.Dispose();
    }

    public void Initialize()
    {
        SqliteFiles.EnableWriteAheadLog(_path);
        using var connection = Open();
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS message_body (
                queue_id TEXT NOT NULL PRIMARY KEY,
                body BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS queue (
                queue_id TEXT NOT NULL PRIMARY KEY,
                due_at INTEGER NOT NULL,
                state TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                envelope BLOB
            );
            CREATE INDEX IF NOT EXISTS queue_due ON queue (due_at);
            """);
        // Queues written before the envelope moved here keep their acceptance in the journal.
        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT count(*) FROM pragma_table_info('queue') WHERE name = 'envelope'";
        if ((long)columns.ExecuteScalar()! == 0)
            Execute(connection, "ALTER TABLE queue ADD COLUMN envelope BLOB");
    }

    /// <summary>
    /// Accepts a message: its body and its index row, atomically, durable when the task
    /// completes. The row is due only after <paramref name="dueAt"/>.
    /// </summary>
    public Task StoreAsync(MessageAccepted accepted, byte[] body, DateTimeOffset dueAt)
    {
        var envelope = JsonSerializer.SerializeToUtf8Bytes(accepted, ProtocolSerializer.Json);
        return _writer.Value.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO message_body (queue_id, body) VALUES ($id, $body);
                INSERT INTO queue (queue_id, due_at, state, created_at, envelope) VALUES ($id, $due, $state, $created, $envelope);
                """;
            command.Parameters.AddWithValue("$id", accepted.QueueId);
            command.Parameters.Add("$body", SqliteType.Blob).Value = body;
            command.Parameters.AddWithValue("$due", dueAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$state", New);
            command.Parameters.AddWithValue("$created", accepted.ReceivedAt.ToUnixTimeMilliseconds());
            command.Parameters.Add("$envelope", SqliteType.Blob).Value = envelope;
            return command.ExecuteNonQuery();
        });
    }

    public Task<byte[]?> ReadBodyAsync(string queueId) =>
        Task.Run(() =>
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT body FROM message_body WHERE queue_id = $id";
            command.Parameters.AddWithValue("$id", queueId);
            return command.ExecuteScalar() as byte[];
        });

    public Task<QueueEntry?> FindAsync(string queueId) =>
        Task.Run(() =>
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT due_at, state, created_at, envelope FROM queue WHERE queue_id = $id";
            command.Parameters.AddWithValue("$id", queueId);
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? new QueueEntry(queueId, FromUnix(reader.GetInt64(0)), reader.GetString(1), FromUnix(reader.GetInt64(2)),
                    reader.IsDBNull(3) ? null : JsonSerializer.Deserialize<MessageAccepted>((byte[])reader.GetValue(3), ProtocolSerializer.Json))
                : null;
        });

    public Task RescheduleAsync(string queueId, DateTimeOffset dueAt, string state) =>
        _writer.Value.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE queue SET due_at = $due, state = $state WHERE queue_id = $id";
            command.Parameters.AddWithValue("$id", queueId);
            command.Parameters.AddWithValue("$due", dueAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$state", state);
            return command.ExecuteNonQuery();
        });

    /// <summary>Removes the body and the index row together: the message is done with.</summary>
    public Task RemoveAsync(string queueId) =>
        _writer.Value.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM message_body WHERE queue_id = $id; DELETE FROM queue WHERE queue_id = $id;";
            command.Parameters.AddWithValue("$id", queueId);
            return command.ExecuteNonQuery();
        });

    /// <summary>
    /// Takes up to <paramref name="limit"/> due rows and leases them until <paramref name="leaseUntil"/>,
    /// so the next poll does not wake them again while their actors work.
    /// </summary>
    public Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit) =>
        _writer.Value.WriteAsync<IReadOnlyList<string>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE queue SET due_at = $lease, state = $active
                WHERE queue_id IN (SELECT queue_id FROM queue WHERE due_at <= $now ORDER BY due_at LIMIT $limit)
                RETURNING queue_id
                """;
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$lease", leaseUntil.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$active", Active);
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var ids = new List<string>();
            while (reader.Read())
                ids.Add(reader.GetString(0));
            return ids;
        });

    /// <summary>
    /// After a restart, leases held by the previous run mean nothing: make every message
    /// that is not waiting for a retry due now, whether it was new or being worked on.
    /// </summary>
    public Task<int> ReleaseLeasesAsync() =>
        _writer.Value.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE queue SET due_at = 0 WHERE state <> $deferred";
            command.Parameters.AddWithValue("$deferred", Deferred);
            return command.ExecuteNonQuery();
        });

    public Task<long> CountAsync() =>
        Task.Run(() =>
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM queue";
            return (long)command.ExecuteScalar()!;
        });

    SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    static DateTimeOffset FromUnix(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
