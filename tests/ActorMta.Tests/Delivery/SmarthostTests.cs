using System.Net;
using ActorMta.Tests.Support;

namespace ActorMta.Tests.Delivery;

/// <summary>A site on a dynamic address sends everything through its provider's relay, authenticated.</summary>
public sealed class SmarthostTests
{
    [Fact]
    public async Task with_a_smarthost_all_remote_mail_goes_there_authenticated_without_looking_up_mx()
    {
        var port = MtaServer.FreePort();
        await using var relay = await ScriptedReceiver.StartAsync(IPAddress.Parse("127.0.0.20"), port, ("site", "s3cret"));
        await using var mta = await MtaServer.StartAsync($$"""
            actormta.delivery.smarthost {
              host = "127.0.0.20"
              port = {{port}}
              username = "site"
              password = "s3cret"
              require-tls = off
            }
            """);

        await Mail.SendAsync(mta.Port, "admin@example.test", "friend@nowhere-in-dns.test", "via the relay");

        var received = await Eventually.Get(() => relay.Messages.ToList(), m => m.Count > 0);
        var message = Assert.Single(received);
        Assert.Equal("site", message.User);
        Assert.Equal(["friend@nowhere-in-dns.test"], message.Recipients);
    }
}
