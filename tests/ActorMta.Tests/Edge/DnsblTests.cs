using System.Net;
using ActorMta.Tests.Support;

namespace ActorMta.Tests.Edge;

public sealed class ListedServer : IAsyncLifetime
{
    public DnsServer Dns { get; private set; } = null!;
    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Dns = DnsServer.Start(
            "--host-record=2.0.0.127.dnsbl.test,127.0.0.2",
            "--txt-record=2.0.0.127.dnsbl.test,Listed for testing; see https://dnsbl.test/2",
            "--host-record=3.0.0.127.dnsbl.test,127.0.0.2",
            // A list's error code ("public resolver refused"), not a listing.
            "--host-record=4.0.0.127.dnsbl.test,127.255.255.254");
        Server = await MtaServer.StartAsync($$"""
            actormta.smtp {
              submission.enabled = on
              trusted-networks = [ "127.0.0.3/32" ]
              dnsbl { zones = [ "dnsbl.test" ], resolver = "127.0.0.1:{{Dns.Port}}" }
            }
            """);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Dns.Dispose();
    }
}

/// <summary>DNS block lists, asked through a real DNS server on loopback that lists 127.0.0.2.</summary>
public sealed class DnsblTests(ListedServer fixture) : IClassFixture<ListedServer>
{
    MtaServer Server => fixture.Server;

    [Fact]
    public async Task a_listed_client_is_greeted_with_554_5_7_1_and_the_lists_reason_and_may_only_quit()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port, IPAddress.Parse("127.0.0.2"));

        Assert.Equal("554 5.7.1 Service unavailable; client [127.0.0.2] blocked using dnsbl.test; Listed for testing; see https://dnsbl.test/2", smtp.Greeting);
        Assert.StartsWith("503", await smtp.SendAsync("EHLO client.example.org"), StringComparison.Ordinal);
        Assert.StartsWith("503", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);
        Assert.StartsWith("221", await smtp.SendAsync("QUIT"), StringComparison.Ordinal);
        Assert.True(await smtp.ClosedByServerAsync());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.4")]
    public async Task a_client_that_is_not_listed_is_greeted_normally(string from)
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port, IPAddress.Parse(from));

        Assert.StartsWith("220 ", smtp.Greeting, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_trusted_client_is_not_checked()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port, IPAddress.Parse("127.0.0.3"));

        Assert.StartsWith("220 ", smtp.Greeting, StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_submission_listener_does_not_check_block_lists()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.SubmissionPort, IPAddress.Parse("127.0.0.2"));

        Assert.StartsWith("220 ", smtp.Greeting, StringComparison.Ordinal);
    }
}
