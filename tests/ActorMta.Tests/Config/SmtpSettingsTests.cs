using System.Net;
using ActorMta.Config;

namespace ActorMta.Tests.Config;

public sealed class SmtpSettingsTests
{
    static SmtpSettings Smtp(string overlay = "") => ActorMtaSettings.From(ActorMtaConfiguration.FromText(overlay)).Smtp;

    [Fact]
    public void by_default_only_the_mx_listens_and_loopback_is_trusted()
    {
        var smtp = Smtp();

        var mx = Assert.Single(smtp.Listeners);
        Assert.Equal(new EdgeListener("mx", ListenerKind.Mx, new IPEndPoint(IPAddress.Loopback, 2525)), mx);
        Assert.True(smtp.IsTrusted(IPAddress.Parse("127.0.0.9")));
        Assert.True(smtp.IsTrusted(IPAddress.IPv6Loopback));
        Assert.True(smtp.IsTrusted(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(smtp.IsTrusted(IPAddress.Parse("192.0.2.1")));
    }

    [Fact]
    public void submission_listeners_are_enabled_and_addressed_each_on_its_own()
    {
        var smtp = Smtp("""
            actormta.smtp {
              mx-enabled = off
              submission { enabled = on, address = "0.0.0.0", port = 587 }
              submissions { enabled = on, port = 465 }
            }
            """);

        Assert.Equal(["submission 0.0.0.0:587", "submissions 127.0.0.1:465"], smtp.Listeners.Select(l => $"{l.Name} {l.Endpoint}"));
        Assert.All(smtp.Listeners, l => Assert.True(l.IsSubmission));
    }

    [Theory]
    [InlineData("""actormta.smtp.trusted-networks = [ "127.0.0.0/33" ]""", "trusted-networks")]
    [InlineData("""actormta.smtp.trusted-networks = [ "everyone" ]""", "trusted-networks")]
    [InlineData("""actormta.smtp.tls.certificate-file = "/etc/ssl/cert.pem" """, "both certificate-file and key-file")]
    [InlineData("""actormta.smtp.mx-enabled = off""", "no SMTP listener")]
    [InlineData("""actormta.smtp.helo-checks = maybe""", "helo-checks")]
    [InlineData("""actormta.smtp.dnsbl.resolver = "localhost" """, "dnsbl.resolver")]
    [InlineData("""actormta.smtp { submission.enabled = on, submission.port = 2525 }""", "both use")]
    public void a_configuration_that_cannot_work_is_refused_with_a_reason(string overlay, string reason)
    {
        var error = Assert.Throws<SettingsException>(() => Smtp(overlay));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
