using ActorMta.Config;
using ActorMta.Dns;
using ActorMta.Routing;
using ActorMta.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorMta.Tests.Routing;

/// <summary>The routing section of the configuration, and destination keys.</summary>
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
}
