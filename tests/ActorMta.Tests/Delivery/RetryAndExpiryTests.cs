using ActorMta.Persistence;
using ActorMta.Tests.Support;
using MimeKit;

namespace ActorMta.Tests.Delivery;

/// <summary>
/// A destination that never answers: the sender is warned after the first failure and again
/// after a long wait, and the message is returned when it reaches its maximum age. The ages
/// here are seconds instead of hours and days.
/// </summary>
public sealed class RetryAndExpiryTests
{
    const string Sender = "admin@example.test";

    [Fact]
    public async Task an_undeliverable_message_warns_twice_then_returns_to_the_sender_as_expired()
    {
        using var dns = DnsServer.Start(OutboundWorld.Records);
        await using var mta = await MtaServer.StartAsync(OutboundWorld.Overlay(dns, MtaServer.FreePort(), """
            queue.max-age = 5s
            delivery.delay-notice.after = 2s
            """));

        var queueId = await Mail.SendAsync(mta.Port, Sender, "someone@down.test", "never arrives");

        var subjects = await Eventually.Get(() => Notices(mta, queueId), n => n.Count >= 3, TimeSpan.FromSeconds(30));
        Assert.Equal(["Delayed Mail (still being retried)", "Delayed Mail (still being retried)", "Undelivered Mail Returned to Sender"], subjects.Select(n => n.Subject));
        var expired = subjects[2];
        Assert.Contains("could not be delivered for", expired.TextBody ?? "", StringComparison.Ordinal);
        var status = Assert.IsType<MultipartReport>(expired.Body).OfType<MessageDeliveryStatus>().Single().StatusGroups.Skip(1).First(g => g.Count > 0);
        Assert.Equal("failed", status["Action"]);
        Assert.StartsWith("4.", status["Status"], StringComparison.Ordinal);
        await Eventually.GetAsync(() => new QueueStore(mta.Settings.QueueDatabasePath).FindAsync(queueId), e => e is null);
        Assert.Null(await new QueueStore(mta.Settings.QueueDatabasePath).FindAsync(queueId));
    }

    [Fact]
    public async Task a_held_message_still_expires_at_its_maximum_age()
    {
        using var dns = DnsServer.Start(OutboundWorld.Records);
        await using var mta = await MtaServer.StartAsync(OutboundWorld.Overlay(dns, MtaServer.FreePort(), """
            queue.max-age = 2s
            queue.hold = on
            queue.claim-lease = 1s
            """));
        var queue = new QueueStore(mta.Settings.QueueDatabasePath);

        var queueId = await Mail.SendAsync(mta.Port, Sender, "someone@ok.test", "held too long");

        await Eventually.GetAsync(() => queue.FindAsync(queueId), e => e is null, TimeSpan.FromSeconds(30));
        Assert.Null(await queue.FindAsync(queueId));
        // The failure notice is queued (and held like everything else).
        Assert.NotNull(await queue.FindAsync(queueId + "B1"));
    }

    [Fact]
    public async Task a_deferred_message_is_remembered_from_its_acceptance_on_and_delivered_after_a_restart()
    {
        using var dns = DnsServer.Start(OutboundWorld.Records);
        using var data = new TempDirectory();
        var port = MtaServer.FreePort();
        var overlay = OutboundWorld.Overlay(dns, port, "delivery.delay-notice.on-first-failure = off");
        var queue = new QueueStore(Path.Combine(data.Path, "queue.db"));
        string queueId;
        await using (var mta = await MtaServer.StartAsync(overlay, data.Path))
        {
            // Nothing listens on flaky.test's MX yet: refused, deferred.
            queueId = await Mail.SendAsync(mta.Port, Sender, "someone@flaky.test", "comes back");
            await Eventually.GetAsync(() => queue.FindAsync(queueId), e => e?.State == QueueStore.Deferred);
        }

        Assert.Equal(["msg.accepted.v1", "msg.deferred.v1"], Journal.Manifests(Path.Combine(data.Path, "journal.db"), queueId).Take(2));

        await using var receiver = await ScriptedReceiver.StartAsync(OutboundWorld.Flaky, port);
        await using var restarted = await MtaServer.StartAsync(overlay, data.Path);
        var delivered = await Eventually.Get(() => receiver.Messages.ToList(), m => m.Count > 0, TimeSpan.FromSeconds(30));
        Assert.Contains("comes back", Assert.Single(delivered).Text, StringComparison.Ordinal);
        Assert.Null(await Eventually.GetAsync(() => queue.FindAsync(queueId), e => e is null));
    }

    static List<MimeMessage> Notices(MtaServer mta, string queueId) =>
        [.. mta.DeliveredFiles(Sender)
            .Where(f => File.ReadAllText(f).Contains($"X-ActorMta-Queue-ID: {queueId}", StringComparison.Ordinal))
            .Select(f => MimeMessage.Load(f))
            .OrderBy(m => m.Date)
            .ThenBy(m => m.Subject?.StartsWith("Undelivered", StringComparison.Ordinal))];
}
