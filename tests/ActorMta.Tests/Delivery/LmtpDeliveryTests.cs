using ActorMta.Tests.Support;
using MimeKit;

namespace ActorMta.Tests.Delivery;

/// <summary>Local domains can be handed to a mailbox server over LMTP, each mailbox with its own outcome.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LmtpDeliveryTests
{
    [Fact]
    public async Task a_domain_configured_for_lmtp_is_delivered_to_dovecot_with_per_recipient_outcomes()
    {
        using var dovecot = DovecotLmtp.Start("bob@lmtp.test", "carol@lmtp.test", "postmaster@lmtp.test");
        await using var mta = await MtaServer.StartAsync($$"""
            actormta {
              local-domains = [ "example.test", "lmtp.test" ]
              domains."lmtp.test" {
                lmtp = "{{dovecot.Endpoint}}"
                # ghost is known here but not to Dovecot: its mailbox server refuses it.
                mailboxes = [ "bob", "carol", "ghost", "postmaster" ]
                aliases { abuse = "postmaster" }
              }
            }
            """);
        var subject = Guid.NewGuid().ToString("N");

        var queueId = await Mail.SendAsync(mta.Port, Mail.Message("admin@example.test", ["bob@lmtp.test", "carol@lmtp.test", "ghost@lmtp.test"], subject));

        foreach (var user in new[] { "bob@lmtp.test", "carol@lmtp.test" })
        {
            var files = await Eventually.Get(() => dovecot.Inbox(user), f => f.Count > 0);
            var delivered = File.ReadAllText(Assert.Single(files));
            Assert.Contains(subject, delivered, StringComparison.Ordinal);
            Assert.Contains("Return-Path: <admin@example.test>", delivered, StringComparison.Ordinal);
        }
        var bounce = await Eventually.Get(
            () => mta.DeliveredFiles("admin@example.test").Where(f => File.ReadAllText(f).Contains(queueId, StringComparison.Ordinal)).ToList(),
            f => f.Count > 0);
        var report = MimeMessage.Load(Assert.Single(bounce));
        var status = Assert.IsType<MultipartReport>(report.Body).OfType<MessageDeliveryStatus>().Single().StatusGroups.Skip(1).Where(g => g.Count > 0);
        var ghost = Assert.Single(status);
        Assert.Equal("rfc822; ghost@lmtp.test", ghost["Final-Recipient"]);
        Assert.StartsWith("5.", ghost["Status"], StringComparison.Ordinal);
    }
}
