using ActorMta.Persistence;
using ActorMta.Tests.Support;
using MailKit.Net.Smtp;
using Microsoft.Data.Sqlite;

namespace ActorMta.Tests.Edge;

/// <summary>"250 queued" is a promise: it is given only once the message is durable, and a refusal leaves nothing behind.</summary>
public sealed class AcceptanceDurabilityTests
{
    [Fact]
    public async Task the_250_reply_comes_only_after_the_body_and_the_accepted_event_are_stored()
    {
        await using var server = await MtaServer.StartAsync("actormta.queue.hold = on");

        var queueId = await Send(server.Port);

        Assert.NotNull(await new QueueStore(server.Settings.QueueDatabasePath).ReadBodyAsync(queueId));
        Assert.Equal("msg.accepted.v1", JournalManifests(server, queueId).First());
    }

    [Fact]
    public async Task when_the_journal_cannot_be_written_the_client_gets_451_and_nothing_is_half_stored()
    {
        await using var server = await MtaServer.StartAsync("""
            actormta.smtp.accept-timeout = 2s
            actormta.queue.claim-lease = 3s
            """);
        var queue = new QueueStore(server.Settings.QueueDatabasePath);

        SmtpCommandException refused;
        using (var locker = new SqliteConnection($"Data Source={server.Settings.JournalDatabasePath};Pooling=False"))
        {
            locker.Open();
            using var exclusive = locker.BeginTransaction(System.Data.IsolationLevel.Serializable);
            using (var write = locker.CreateCommand())
            {
                // Takes the write lock: the journal's inserts now wait, as on a stalled disk.
                write.CommandText = "CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER); INSERT INTO lock_holder VALUES (1);";
                write.ExecuteNonQuery();
            }
            refused = await Assert.ThrowsAsync<SmtpCommandException>(() => Send(server.Port));
            exclusive.Rollback();
        }

        Assert.Equal(451, (int)refused.StatusCode);
        Assert.StartsWith("4.3.0", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Eventually.GetAsync(queue.CountAsync, count => count == 0, TimeSpan.FromSeconds(30)));
        Assert.Empty(server.DeliveredFiles("admin@example.test"));

        var queueId = await Send(server.Port);
        await Eventually.Get(() => server.DeliveredFiles("admin@example.test"), f => f.Count > 0);
        Assert.Single(server.DeliveredFiles("admin@example.test"), f => f.Contains(queueId, StringComparison.Ordinal));
    }

    static List<string> JournalManifests(MtaServer server, string queueId)
    {
        using var connection = new SqliteConnection($"Data Source={server.Settings.JournalDatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT manifest FROM event_journal WHERE persistence_id = $id ORDER BY sequence_nr";
        command.Parameters.AddWithValue("$id", "message-" + queueId);
        using var reader = command.ExecuteReader();
        var manifests = new List<string>();
        while (reader.Read())
            manifests.Add(reader.GetString(0));
        return manifests;
    }

    static Task<string> Send(int port) => Mail.SendAsync(port, "sender@elsewhere.test", "admin@example.test", "durability");
}
