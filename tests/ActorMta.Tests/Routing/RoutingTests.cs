using System.Net;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Tests.Delivery;
using ActorMta.Tests.Support;
using SmtpServer.Protocol;

namespace ActorMta.Tests.Routing;

/// <summary>
/// Destinations with their own limits, each with a scripted receiver that counts its
/// sessions, on a loopback Internet served by dnsmasq; one MTA shapes mail to all of them.
/// </summary>
public sealed class RoutingWorld : IAsyncLifetime
{
    public int SmtpPort { get; } = MtaServer.FreePort();
    public DnsServer Dns { get; private set; } = null!;
    public ScriptedReceiver Limited { get; private set; } = null!;
    public ScriptedReceiver Paced { get; private set; } = null!;
    public ScriptedReceiver Reused { get; private set; } = null!;
    public ScriptedReceiver Throttling { get; private set; } = null!;
    public ScriptedReceiver Suspended { get; private set; } = null!;
    public ScriptedReceiver Split { get; private set; } = null!;
    public MtaServer Mta { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Dns = DnsServer.Start(
            "--mx-host=three.test,mx.three.test,10", "--host-record=mx.three.test,127.0.0.30",
            "--mx-host=rate.test,mx.rate.test,10", "--host-record=mx.rate.test,127.0.0.31",
            "--mx-host=reuse.test,mx.reuse.test,10", "--host-record=mx.reuse.test,127.0.0.32",
            "--mx-host=throttled.test,mx.throttled.test,10", "--host-record=mx.throttled.test,127.0.0.33",
            "--mx-host=suspended.test,mx.suspended.test,10", "--host-record=mx.suspended.test,127.0.0.34",
            "--mx-host=dead.test,mx.dead.test,10", "--host-record=mx.dead.test,127.0.0.35",
            "--mx-host=split.test,mx.split.test,10", "--host-record=mx.split.test,127.0.0.36");
        Limited = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.30"), SmtpPort);
        Limited.DataDelay = TimeSpan.FromMilliseconds(30);
        Paced = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.31"), SmtpPort);
        Reused = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.32"), SmtpPort);
        Throttling = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.33"), SmtpPort);
        Suspended = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.34"), SmtpPort);
        Split = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.36"), SmtpPort);
        Mta = await MtaServer.StartAsync(OutboundWorld.Overlay(Dns, SmtpPort, """
            routing.destinations {
              "three.test" { max-connections = 3, initial-connections = 3 }
              "rate.test" { max-messages-per-minute = 600 }
              "reuse.test" { max-connections = 5 }
              "throttled.test" { initial-connections = 4, failure-pause = 500ms, suspend-after-failures = 0 }
              "dead.test" { failure-pause = 0s, suspend-after-failures = 2, suspend-for = 1m }
              "split.test" { max-recipients-per-transaction = 2 }
            }
            """));
    }

    public async Task DisposeAsync()
    {
        await Mta.DisposeAsync();
        foreach (var receiver in new[] { Limited, Paced, Reused, Throttling, Suspended, Split })
            await receiver.DisposeAsync();
        Dns.Dispose();
    }
}

/// <summary>Each destination gets mail only as fast, as often and over as many sessions as it is configured to take.</summary>
public sealed class RoutingTests(RoutingWorld world) : IClassFixture<RoutingWorld>
{
    const string Sender = "admin@example.test";
    MtaServer Mta => world.Mta;

    [Fact]
    public async Task a_destination_limited_to_three_connections_never_gets_more_than_three_sessions_at_once()
    {
        var subject = Unique();
        var messages = Enumerable.Range(0, 200).Select(i => Mail.Message(Sender, [$"user{i}@three.test"], subject)).ToList();

        await Mail.SendManyAsync(Mta.Port, messages, connections: 6);

        var received = await Eventually.Get(() => Received(world.Limited, subject), r => r.Count >= 200, TimeSpan.FromSeconds(60));
        Assert.Equal(200, received.Count);
        Assert.InRange(world.Limited.MaxConcurrentSessions, 2, 3);
    }

    [Fact]
    public async Task a_rate_of_600_messages_a_minute_is_held_within_ten_percent()
    {
        var subject = Unique();
        var messages = Enumerable.Range(0, 40).Select(i => Mail.Message(Sender, [$"user{i}@rate.test"], subject)).ToList();

        await Mail.SendManyAsync(Mta.Port, messages);

        var received = await Eventually.Get(() => Received(world.Paced, subject), r => r.Count >= 40, TimeSpan.FromSeconds(30));
        var times = received.Select(m => m.At).Order().ToList();
        var perMinute = (times.Count - 1) / (times[^1] - times[0]).TotalMinutes;
        Assert.InRange(perMinute, 540, 660);
    }

    [Fact]
    public async Task fifty_messages_to_one_destination_share_far_fewer_sessions()
    {
        var subject = Unique();
        var messages = Enumerable.Range(0, 50).Select(i => Mail.Message(Sender, [$"user{i}@reuse.test"], subject)).ToList();

        await Mail.SendManyAsync(Mta.Port, messages);

        var received = await Eventually.Get(() => Received(world.Reused, subject), r => r.Count >= 50);
        Assert.Equal(50, received.Count);
        // At most five sessions, so each carried ten messages on average.
        Assert.InRange(world.Reused.Sessions, 1, 5);
        var state = await Mta.AskRouterAsync(new GetRouteState("reuse.test"));
        Assert.Equal(50, state.TransactionsSent);
        Assert.Equal(world.Reused.Sessions, state.SessionsOpened);
    }

    [Fact]
    public async Task a_421_lowers_the_concurrency_and_the_mail_is_deferred_not_bounced()
    {
        var refusing = true;
        world.Throttling.DataReply = _ => Volatile.Read(ref refusing) ? new SmtpResponse((SmtpReplyCode)421, "4.7.0 too many messages, slow down") : null;
        var subject = Unique();
        var queue = new QueueStore(Mta.Settings.QueueDatabasePath);

        var queueIds = new List<string>();
        for (var i = 0; i < 3; i++)
            queueIds.Add(await Mail.SendAsync(Mta.Port, Sender, $"user{i}@throttled.test", subject));

        foreach (var queueId in queueIds)
            Assert.Equal(QueueStore.Deferred, (await Eventually.GetAsync(() => queue.FindAsync(queueId), e => e?.State == QueueStore.Deferred))?.State);
        var state = await Mta.AskRouterAsync(new GetRouteState("throttled.test"));
        Assert.InRange(state.Concurrency, 1, 2);
        Assert.Contains("421", state.LastError, StringComparison.Ordinal);

        Volatile.Write(ref refusing, false);
        var received = await Eventually.Get(() => Received(world.Throttling, subject), r => r.Count >= 3);
        Assert.Equal(3, received.Count);
        Assert.DoesNotContain(Mta.DeliveredFiles(Sender), f => File.ReadAllText(f).Contains("Undelivered Mail Returned to Sender", StringComparison.Ordinal)
            && queueIds.Any(id => File.ReadAllText(f).Contains(id, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task a_suspended_destination_defers_its_mail_without_connecting_until_resumed()
    {
        var suspended = await Mta.AskRouterAsync(new SuspendRoute("suspended.test", TimeSpan.FromMinutes(10), "operator: their postmaster asked us to pause"));
        Assert.NotNull(suspended.SuspendedUntil);
        var subject = Unique();
        var queue = new QueueStore(Mta.Settings.QueueDatabasePath);

        var queueId = await Mail.SendAsync(Mta.Port, Sender, "someone@suspended.test", subject);

        var entry = await Eventually.GetAsync(() => queue.FindAsync(queueId), e => e?.State == QueueStore.Deferred);
        Assert.Equal(QueueStore.Deferred, entry?.State);
        Assert.Equal(0, world.Suspended.Sessions);

        var resumed = await Mta.AskRouterAsync(new ResumeRoute("suspended.test"));
        Assert.Null(resumed.SuspendedUntil);
        await Eventually.Get(() => Received(world.Suspended, subject), r => r.Count > 0);
        Assert.Single(Received(world.Suspended, subject));
    }

    [Fact]
    public async Task a_destination_that_keeps_refusing_connections_is_suspended()
    {
        await Mail.SendAsync(Mta.Port, Sender, "someone@dead.test", Unique());

        var state = await Eventually.GetAsync(() => Mta.AskRouterAsync(new GetRouteState("dead.test")), s => s.SuspendedUntil is not null);

        Assert.NotNull(state.SuspendedUntil);
        Assert.Contains("connect to mx.dead.test[127.0.0.35]", state.LastError, StringComparison.Ordinal);
        Assert.Equal(2, state.ConsecutiveFailures);
    }

    [Fact]
    public async Task recipients_beyond_the_transaction_limit_go_in_further_transactions()
    {
        var subject = Unique();
        var recipients = Enumerable.Range(0, 5).Select(i => $"user{i}@split.test").ToList();

        await Mail.SendAsync(Mta.Port, Mail.Message(Sender, recipients, subject));

        var received = await Eventually.Get(() => Received(world.Split, subject), r => r.Sum(m => m.Recipients.Count) >= 5);
        Assert.Equal([1, 2, 2], received.Select(m => m.Recipients.Count).Order());
        Assert.Equal(recipients, received.SelectMany(m => m.Recipients).Order(StringComparer.Ordinal));
    }

    static string Unique() => Guid.NewGuid().ToString("N")[..12];

    static List<Delivered> Received(ScriptedReceiver receiver, string subject) =>
        [.. receiver.Messages.Where(m => m.Text.Contains(subject, StringComparison.Ordinal))];
}
