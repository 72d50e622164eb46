using System.Net;
using Akka.Cluster;
using ActorMta.Protocol;
using ActorMta.Tests.Delivery;
using ActorMta.Tests.Support;

namespace ActorMta.Tests.Routing;

/// <summary>
/// Two nodes in one test process form a cluster on loopback and share one data directory
/// (SQLite stands in for the shared database here): each destination has one router in the
/// whole cluster, so its limits hold for all nodes together.
/// </summary>
public sealed class ClusterRoutingTests
{
    const string Sender = "admin@example.test";

    [Fact]
    public async Task the_connection_limit_of_a_destination_holds_across_the_cluster()
    {
        using var dns = DnsServer.Start("--mx-host=global.test,mx.global.test,10", "--host-record=mx.global.test,127.0.0.38");
        var smtpPort = MtaServer.FreePort();
        await using var receiver = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.38"), smtpPort);
        receiver.DataDelay = TimeSpan.FromMilliseconds(30);
        using var data = new TempDirectory();
        var (port1, port2) = (MtaServer.FreePort(), MtaServer.FreePort());
        string Node(int port) => OutboundWorld.Overlay(dns, smtpPort, $$"""
            cluster { port = {{port}}, seed-nodes = ["akka.tcp://actormta@127.0.0.1:{{port1}}"] }
            routing.destinations."global.test" { max-connections = 3, initial-connections = 3 }
            """);
        await using var first = await MtaServer.StartAsync(Node(port1), data.Path);
        await using var second = await MtaServer.StartAsync(Node(port2), data.Path);
        var up = await Eventually.Get(() => Cluster.Get(first.System).State.Members.Count(m => m.Status == MemberStatus.Up), n => n == 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, up);
        var subject = Guid.NewGuid().ToString("N")[..12];
        var messages = Enumerable.Range(0, 120).Select(i => Mail.Message(Sender, [$"user{i}@global.test"], subject)).ToList();

        await Task.WhenAll(
            Mail.SendManyAsync(first.Port, messages[..60], connections: 3),
            Mail.SendManyAsync(second.Port, messages[60..], connections: 3));

        var received = await Eventually.Get(() => receiver.Messages.Count(m => m.Text.Contains(subject, StringComparison.Ordinal)), n => n >= 120, TimeSpan.FromSeconds(60));
        Assert.Equal(120, received);
        Assert.InRange(receiver.MaxConcurrentSessions, 2, 3);
        // Both nodes reach the same router: one count of everything sent.
        var seenFromFirst = await first.AskRouterAsync(new GetRouteState("global.test"));
        var seenFromSecond = await second.AskRouterAsync(new GetRouteState("global.test"));
        Assert.Equal(120, seenFromFirst.TransactionsSent);
        Assert.Equal((seenFromFirst.TransactionsSent, seenFromFirst.SessionsOpened), (seenFromSecond.TransactionsSent, seenFromSecond.SessionsOpened));
    }
}
