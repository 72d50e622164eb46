using ActorMta.Persistence;
using ActorMta.Tests.Support;
using MailKit.Net.Smtp;
using Microsoft.Data.Sqlite;

namespace ActorMta.Tests.Edge;

/// <summary>"250 queued" is a promise: it is given only once the message is durable, and a refusal leaves nothing behind.</summary>
public sealed class AcceptanceDurabilityTests
{
    [Fact]
    public async Task the_250_reply_comes_only_after_the_body_and_the_envelope_are_stored_together()
    {
        await using var server = await MtaServer.StartAsync("actormta.queue.hold = on");

        var queueId = await Send(server.Port);

        var queue = new QueueStore(server.Settings.QueueDatabasePath);
        Assert.NotNull(await queue.ReadBodyAsync(queueId));
        var accepted = (await queue.FindAsync(queueId))!.Accepted!;
        Assert.Equal("sender@elsewhere.test", accepted.Sender);
        Assert.Equal("admin@example.test", Assert.Single(accepted.Recipients).Mailbox);
    }

    [Fact]
    public async Task a_message_delivered_at_its_first_attempt_never_touches_the_journal()
    {
        await using var server = await MtaServer.StartAsync();

        var queueId = await Send(server.Port);
        await Eventually.Get(() => server.DeliveredFiles("admin@example.test"), f => f.Count > 0);
        await Eventually.GetAsync(() => new QueueStore(server.Settings.QueueDatabasePath).FindAsync(queueId), e => e is null);

        Assert.Empty(Journal.Manifests(server.Settings.JournalDatabasePath, queueId));
    }

    [Fact]
    public async Task when_the_queue_cannot_be_written_the_client_gets_451_and_nothing_is_left_behind()
    {
        await using var server = await MtaServer.StartAsync("actormta.smtp.accept-timeout = 2s");
        var queue = new QueueStore(server.Settings.QueueDatabasePath);

        SmtpCommandException refused;
        using (var locker = new SqliteConnection($"Data Source={server.Settings.QueueDatabasePath};Pooling=False"))
        {
            locker.Open();
            using var exclusive = locker.BeginTransaction(System.Data.IsolationLevel.Serializable);
            using (var write = locker.CreateCommand())
            {
                // Takes the write lock: the queue's commits now wait, as on a stalled disk.
                write.CommandText = "CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER); INSERT INTO lock_holder VALUES (1);";
                write.ExecuteNonQuery();
            }
            refused = await Assert.ThrowsAsync<SmtpCommandException>(() => Send(server.Port));
            exclusive.Rollback();
        }

        Assert.Equal(451, (int)refused.StatusCode);
        Assert.StartsWith("4.3.0", refused.Message, StringComparison.Ordinal);
        // The write that was waiting commits once the lock goes; the client was told to retry, so it is removed.
        Assert.Equal(0, await Eventually.GetAsync(queue.CountAsync, count => count == 0, TimeSpan.FromSeconds(30)));
        Assert.Empty(server.DeliveredFiles("admin@example.test"));

        var queueId = await Send(server.Port);
        await Eventually.Get(() => server.DeliveredFiles("admin@example.test"), f => f.Count > 0);
        Assert.Single(server.DeliveredFiles("admin@example.test"), f => f.Contains(queueId, StringComparison.Ordinal));
    }

    static Task<string> Send(int port) => Mail.SendAsync(port, "sender@elsewhere.test", "admin@example.test", "durability");
}
