using System.Text;
using ActorMta.Persistence;
using ActorMta.Protocol;
using Microsoft.Data.Sqlite;

using ActorMta.Tests.Support;

namespace ActorMta.Tests.Persistence;

public sealed class QueueStoreTests : IDisposable
{
    static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    readonly TempDirectory _temp = new();
    readonly string _path;
    readonly QueueStore _store;

    public QueueStoreTests()
    {
        // A directory that does not exist yet: the store creates it, as on a fresh data-dir.
        _path = Path.Combine(_temp.Path, "data", "queue.db");
        _store = new QueueStore(_path);
        _store.Initialize();
    }

    public void Dispose()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    static byte[] Body(string text) => Encoding.UTF8.GetBytes(text);

    static MessageAccepted Accepted(string id) =>
        new(id, "sender@foreign.test", [new RecipientAddress("Team@example.test", "alice@example.test"), new RecipientAddress("x@foreign.test", "x@foreign.test", Remote: true)], "[192.0.2.7]", T0, 20);

    Task Store(string id, DateTimeOffset dueAt, string text = "Subject: x\r\n\r\nbody\r\n") =>
        _store.StoreAsync(Accepted(id), Body(text), dueAt);

    async Task<List<string>> Claim(DateTimeOffset now, int limit = 100) =>
        [.. (await _store.ClaimDueAsync(now, now + Lease, limit)).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task writes_committed_together_fail_alone_a_duplicate_queue_id_does_not_undo_the_others()
    {
        await Store("A", T0);

        var writes = Enumerable.Range(0, 40).Select(i => Store($"M{i}", T0)).Append(Store("A", T0, "a second copy")).ToList();
        var duplicate = writes[^1];

        await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        await Task.WhenAll(writes.Take(40));
        Assert.Equal(41, await _store.CountAsync());
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", Encoding.UTF8.GetString((await _store.ReadBodyAsync("A"))!));
    }

    [Fact]
    public async Task stored_body_reads_back_byte_for_byte()
    {
        var body = new byte[70_000];
        new Random(7).NextBytes(body);

        await _store.StoreAsync(Accepted("Q1"), body, T0);

        Assert.Equal(body, await _store.ReadBodyAsync("Q1"));
        Assert.True(File.Exists(_path));
    }

    [Fact]
    public async Task stored_message_gets_a_new_queue_row_due_when_asked()
    {
        await Store("Q1", T0.AddSeconds(30));

        var entry = await _store.FindAsync("Q1");

        Assert.Equal(new QueueEntry("Q1", T0.AddSeconds(30), QueueStore.New, T0, entry!.Accepted), entry);
        Assert.Equal(1, await _store.CountAsync());
    }

    [Fact]
    public async Task the_queue_row_is_the_record_of_acceptance_it_carries_the_whole_envelope()
    {
        await Store("Q1", T0);

        var accepted = (await _store.FindAsync("Q1"))!.Accepted!;

        Assert.Equal(Accepted("Q1") with { Recipients = [] }, accepted with { Recipients = [] });
        Assert.Equal(Accepted("Q1").Recipients, accepted.Recipients);
    }

    [Fact]
    public async Task a_queue_from_before_the_envelope_column_gains_it_and_its_rows_read_back_without_one()
    {
        var path = Path.Combine(_temp.Path, "old", "queue.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE message_body (queue_id TEXT NOT NULL PRIMARY KEY, body BLOB NOT NULL);
                CREATE TABLE queue (queue_id TEXT NOT NULL PRIMARY KEY, due_at INTEGER NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL);
                INSERT INTO message_body VALUES ('OLD', x'00');
                INSERT INTO queue VALUES ('OLD', 0, 'new', 0);
                """;
            command.ExecuteNonQuery();
        }
        using var store = new QueueStore(path);

        store.Initialize();
        await store.StoreAsync(Accepted("NEW"), Body("new"), T0);

        Assert.Null((await store.FindAsync("OLD"))!.Accepted);
        Assert.Equal("NEW", (await store.FindAsync("NEW"))!.Accepted!.QueueId);
    }

    [Fact]
    public async Task unknown_message_has_neither_body_nor_row()
    {
        Assert.Null(await _store.ReadBodyAsync("nope"));
        Assert.Null(await _store.FindAsync("nope"));
        Assert.Equal(0, await _store.CountAsync());
    }

    [Fact]
    public async Task a_queue_id_is_stored_only_once()
    {
        await Store("Q1", T0, "first");

        await Assert.ThrowsAsync<SqliteException>(() => Store("Q1", T0, "second"));

        Assert.Equal(Body("first"), await _store.ReadBodyAsync("Q1"));
        Assert.Equal(1, await _store.CountAsync());
    }

    [Fact]
    public async Task claim_takes_only_due_messages()
    {
        await Store("past", T0.AddMinutes(-1));
        await Store("now", T0);
        await Store("future", T0.AddMilliseconds(1));
        await Store("later", T0.AddMinutes(10));

        Assert.Equal(["now", "past"], await Claim(T0));
    }

    [Fact]
    public async Task claimed_messages_are_leased_and_not_claimed_again_before_the_lease_ends()
    {
        await Store("Q1", T0);
        await Store("Q2", T0);

        Assert.Equal(["Q1", "Q2"], await Claim(T0));

        Assert.Equal(T0 + Lease, (await _store.FindAsync("Q1"))!.DueAt);
        Assert.Equal(QueueStore.Active, (await _store.FindAsync("Q1"))!.State);
        Assert.Empty(await Claim(T0));
        Assert.Empty(await Claim(T0 + Lease - TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public async Task a_lease_that_ran_out_wakes_the_message_again()
    {
        await Store("Q1", T0);
        Assert.Equal(["Q1"], await Claim(T0));

        // The node that held the lease died: after it runs out the message is due again.
        Assert.Equal(["Q1"], await Claim(T0 + Lease));
    }

    [Fact]
    public async Task claim_takes_the_longest_waiting_messages_first_up_to_the_limit()
    {
        await Store("c", T0.AddMinutes(-1));
        await Store("a", T0.AddMinutes(-3));
        await Store("b", T0.AddMinutes(-2));

        Assert.Equal(["a", "b"], await Claim(T0, limit: 2));
        Assert.Equal(["c"], await Claim(T0, limit: 2));
    }

    [Fact]
    public async Task rescheduled_message_waits_for_its_retry_as_deferred()
    {
        await Store("Q1", T0);
        await Claim(T0);

        await _store.RescheduleAsync("Q1", T0.AddMinutes(5), QueueStore.Deferred);

        var entry = await _store.FindAsync("Q1");
        Assert.Equal(QueueStore.Deferred, entry!.State);
        Assert.Equal(T0.AddMinutes(5), entry.DueAt);
        Assert.Equal(T0, entry.CreatedAt);
        Assert.Empty(await Claim(T0.AddMinutes(5).AddMilliseconds(-1)));
        Assert.Equal(["Q1"], await Claim(T0.AddMinutes(5)));
    }

    [Fact]
    public async Task removing_a_message_removes_its_body_and_its_row()
    {
        await Store("Q1", T0);
        await Store("Q2", T0);

        await _store.RemoveAsync("Q1");

        Assert.Null(await _store.ReadBodyAsync("Q1"));
        Assert.Null(await _store.FindAsync("Q1"));
        Assert.NotNull(await _store.ReadBodyAsync("Q2"));
        Assert.Equal(1, await _store.CountAsync());
        Assert.Equal(["Q2"], await Claim(T0));
    }

    [Fact]
    public async Task removing_an_unknown_message_is_harmless()
    {
        await Store("Q1", T0);

        await _store.RemoveAsync("nope");

        Assert.Equal(1, await _store.CountAsync());
    }

    [Fact]
    public async Task releasing_leases_makes_new_and_active_messages_due_but_leaves_deferred_ones_waiting()
    {
        await Store("leased", T0);
        await Store("scheduled", T0.AddHours(1));
        await Store("deferred", T0);
        await Store("retrying", T0);
        await Claim(T0);
        await _store.RescheduleAsync("deferred", T0.AddMinutes(40), QueueStore.Deferred);
        await _store.RescheduleAsync("retrying", T0.AddMinutes(1), QueueStore.Deferred);
        // Its retry came, and the node died while trying.
        Assert.Equal(["retrying"], await Claim(T0.AddMinutes(1)));

        var released = await _store.ReleaseLeasesAsync();

        Assert.Equal(3, released);
        Assert.Equal(["leased", "retrying", "scheduled"], await Claim(T0));
        Assert.Equal(T0.AddMinutes(40), (await _store.FindAsync("deferred"))!.DueAt);
        Assert.Equal(QueueStore.Deferred, (await _store.FindAsync("deferred"))!.State);
    }

    [Fact]
    public async Task queue_survives_a_restart_of_the_store()
    {
        await Store("Q1", T0, "kept");

        var restarted = new QueueStore(_path);
        restarted.Initialize();

        Assert.Equal(Body("kept"), await restarted.ReadBodyAsync("Q1"));
        Assert.Equal(1, await restarted.CountAsync());
    }

    [Fact]
    public void queue_file_uses_the_write_ahead_log()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", (string?)command.ExecuteScalar());
    }
}
