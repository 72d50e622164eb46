using Akka.Actor;
using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Dns;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Queue;
using ActorMta.Routing;
using ActorMta.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorMta.Tests.Routing;

/// <summary>The routing section of the configuration, destination keys, and the routing messages on the wire.</summary>
public sealed class RoutingSettingsTests
{
    static ActorMtaSettings Settings(string overlay) => ActorMtaSettings.From(ActorMtaConfiguration.FromText(overlay));

    [Fact]
    public void the_documented_defaults_are_postfix_like()
    {
        var routing = Settings("").Routing;

        Assert.Equal(RouteBy.Domain, routing.RouteBy);
        Assert.Equal(20, routing.Default.MaxConnections);
        Assert.Equal(5, routing.Default.InitialConnections);
        Assert.Equal(100, routing.Default.MaxMessagesPerConnection);
        Assert.Equal(100, routing.Default.MaxRecipientsPerTransaction);
        Assert.Equal(0, routing.Default.MaxMessagesPerMinute);
        Assert.Equal(5, routing.Default.SuspendAfterFailures);
        Assert.Equal(TimeSpan.FromMinutes(5), routing.Default.SuspendFor);
        Assert.Equal(TimeSpan.FromSeconds(30), routing.Default.ConnectTimeout);
        // Queue allowance, then a connection and a transaction: 10m + 30s + 2 × 5m.
        Assert.Equal(TimeSpan.FromSeconds(1230), routing.ReplyTimeout);
    }

    [Fact]
    public void a_destination_overrides_only_the_limits_it_names()
    {
        var routing = Settings("""
            actormta.routing {
              max-messages-per-connection = 50
              destinations."Gmail.COM." { max-connections = 3, max-messages-per-minute = 600, command-timeout = 10m }
            }
            """).Routing;

        var gmail = routing.For("gmail.com");
        Assert.Equal(3, gmail.MaxConnections);
        Assert.Equal(3, gmail.InitialConnections);
        Assert.Equal(600, gmail.MaxMessagesPerMinute);
        Assert.Equal(50, gmail.MaxMessagesPerConnection);
        Assert.Equal(20, routing.For("example.org").MaxConnections);
        Assert.Equal(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(30) + TimeSpan.FromMinutes(20), routing.ReplyTimeout);
    }

    [Theory]
    [InlineData("actormta.routing.max-connections = 0")]
    [InlineData("""actormta.routing.destinations."a.test".max-recipients-per-transaction = 0""")]
    [InlineData("actormta.routing.max-messages-per-minute = -1")]
    [InlineData("actormta.routing.route-by = mx")]
    [InlineData("actormta.routing.suspend-for = 0s")]
    public void impossible_routing_limits_are_refused_at_start(string overlay)
    {
        var error = Assert.Throws<SettingsException>(() => Settings(overlay));

        Assert.Contains("actormta.routing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Example.ORG.", "example.org")]
    [InlineData("mx2.Example.net, mx1.example.net,mx2.example.net", "mx1.example.net,mx2.example.net")]
    [InlineData("[Relay.Example.net]:587", "[relay.example.net]:587")]
    public void destination_keys_have_one_spelling(string key, string normalized) =>
        Assert.Equal(normalized, DestinationKeys.Normalize(key));

    [Fact]
    public async Task with_route_by_mx_site_domains_with_the_same_mx_hosts_share_one_router()
    {
        using var dns = DnsServer.Start(
            "--mx-host=one.test,mx1.host.test,10", "--mx-host=one.test,mx2.host.test,20",
            "--mx-host=two.test,mx2.host.test,10", "--mx-host=two.test,mx1.host.test,10",
            "--host-record=mx1.host.test,127.0.0.40", "--host-record=mx2.host.test,127.0.0.41");
        var settings = Settings($$"""actormta { routing.route-by = mx-site, delivery.dns-server = "127.0.0.1:{{dns.Port}}" }""");
        var keys = new DestinationKeys(settings, new MxResolver(MxResolver.CreateClient(dns.Endpoint, TimeSpan.FromSeconds(2)), NullLogger<MxResolver>.Instance));

        var one = await keys.ForDomainAsync("one.test", CancellationToken.None);
        var two = await keys.ForDomainAsync("TWO.test", CancellationToken.None);
        var unknown = await keys.ForDomainAsync("nosuch.test", CancellationToken.None);

        Assert.Equal("mx1.host.test,mx2.host.test", one);
        Assert.Equal(one, two);
        Assert.Equal("nosuch.test", unknown);
    }

    [Fact]
    public void routing_messages_cross_nodes_under_their_own_manifests()
    {
        using var system = ActorSystem.Create("serializer-test");
        var serializer = new ProtocolSerializer((ExtendedActorSystem)system);
        var report = new AttemptReport("2.0.0", "mx said: 250 ok", "mx.ok.test", "mx.ok.test[127.0.0.10]:25", "250 ok");
        var limits = Settings("").Routing.Default;
        object[] messages =
        [
            new DeliverVia("ok.test", "Q1", "a1", "admin@example.test", "ok.test", [new OutboundRecipient(0, "someone@ok.test")], DateTimeOffset.UnixEpoch),
            new RouteAttemptFinished("Q1", "a1", [new DeliveryOutcome.Delivered(0, report), new DeliveryOutcome.TemporaryFailure(1, report), new DeliveryOutcome.PermanentFailure(2, report)]),
            new GetRouteState("ok.test"),
            new SuspendRoute("ok.test", TimeSpan.FromMinutes(30), "operator"),
            new ResumeRoute("ok.test"),
            new RouteState("ok.test", limits, 3, 2, 10, 2, 0, null, DateTimeOffset.UnixEpoch, "421 busy", 4, 40),
        ];

        foreach (var message in messages)
        {
            var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()), System.Text.Json.JsonSerializer.Serialize(back, back.GetType()));
            Assert.StartsWith("route.", serializer.Manifest(message), StringComparison.Ordinal);
        }
        var finished = (RouteAttemptFinished)serializer.FromBinary(serializer.ToBinary(messages[1]), "route.finished.v1");
        Assert.IsType<DeliveryOutcome.PermanentFailure>(finished.Outcomes[2]);
    }
}
