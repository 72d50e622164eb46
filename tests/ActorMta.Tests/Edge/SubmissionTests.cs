using System.Diagnostics;
using System.Net;
using ActorMta.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace ActorMta.Tests.Edge;

public sealed class SubmissionServer : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    readonly TempDirectory _data = new();

    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        MtaServer.WriteUsers(_data.Path,
            ("admin@example.test", Password, []),
            ("carol@example.test", Password, ["@carol.test", "carol.c@elsewhere.test"]));
        Server = await MtaServer.StartAsync("""
            actormta {
              domains."example.test" {
                mailboxes = [ "admin", "carol" ]
                aliases { postmaster = "admin", abuse = "admin", sales = [ "admin", "carol" ] }
              }
              smtp {
                submission.enabled = on
                submissions.enabled = on
                # Strangers all: only AUTH opens relaying.
                trusted-networks = []
                auth { failure-delay = 400ms, max-failures = 3, lockout = 1h }
              }
            }
            """, _data.Path);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>The submission listeners (587 STARTTLS, 465 implicit TLS): TLS first, then AUTH, then only one's own addresses.</summary>
public sealed class SubmissionTests(SubmissionServer fixture) : IClassFixture<SubmissionServer>
{
    MtaServer Server => fixture.Server;

    [Fact]
    public async Task auth_is_offered_on_submission_only_after_starttls()
    {
        using var client = Client();
        await client.ConnectAsync("127.0.0.1", Server.SubmissionPort, SecureSocketOptions.None);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.StartTLS));
        Assert.False(client.Capabilities.HasFlag(SmtpCapabilities.Authentication));
        await client.DisconnectAsync(true);

        await client.ConnectAsync("127.0.0.1", Server.SubmissionPort, SecureSocketOptions.StartTls);

        Assert.True(client.IsSecure);
        Assert.Contains("PLAIN", client.AuthenticationMechanisms);
        Assert.Contains("LOGIN", client.AuthenticationMechanisms);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task auth_before_starttls_is_refused_and_a_transaction_gets_530()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.SubmissionPort);
        await smtp.SendAsync("EHLO laptop");

        Assert.StartsWith("5", await smtp.SendAsync("AUTH PLAIN " + Plain("admin@example.test", SubmissionServer.Password)), StringComparison.Ordinal);
        Assert.StartsWith("530 5.7.0", await smtp.SendAsync("MAIL FROM:<admin@example.test>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task submission_without_auth_is_refused_with_530_5_7_0_even_over_tls()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.SubmissionPort);
        await smtp.SendAsync("EHLO laptop");
        Assert.StartsWith("220", await smtp.StartTlsAsync(), StringComparison.Ordinal);
        Assert.Contains("AUTH PLAIN LOGIN", await smtp.SendAsync("EHLO laptop"), StringComparison.Ordinal);

        Assert.StartsWith("530 5.7.0", await smtp.SendAsync("MAIL FROM:<admin@example.test>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_mx_listener_never_offers_or_accepts_auth_even_over_tls()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        Assert.Contains("STARTTLS", await smtp.SendAsync("EHLO client.example.org"), StringComparison.Ordinal);
        Assert.StartsWith("220", await smtp.StartTlsAsync(), StringComparison.Ordinal);

        var ehlo = await smtp.SendAsync("EHLO client.example.org");
        var auth = await smtp.SendAsync("AUTH PLAIN " + Plain("admin@example.test", SubmissionServer.Password));

        Assert.DoesNotContain("AUTH", ehlo, StringComparison.Ordinal);
        Assert.StartsWith("503 5.5.1", auth, StringComparison.Ordinal);
        Assert.StartsWith("550 5.7.1", await RelayAttempt(smtp), StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_authenticated_user_submits_on_587_and_may_relay()
    {
        using var client = await AuthenticatedAsync(Server.SubmissionPort, SecureSocketOptions.StartTls);
        var subject = Guid.NewGuid().ToString();

        var reply = await client.SendAsync(Message("admin@example.test", "postmaster@example.test", subject));

        Assert.Contains("queued as", reply, StringComparison.Ordinal);
        var files = await Eventually.Get(() => Server.DeliveredFiles("admin@example.test"), f => f.Any(x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal)));
        var delivered = File.ReadAllText(files.Single(x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal)));
        Assert.Contains("with ESMTPSA id", delivered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_authenticated_user_may_relay_to_a_foreign_domain()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.SubmissionsPort, implicitTls: true);
        await smtp.SendAsync("EHLO laptop");
        Assert.StartsWith("235", await smtp.SendAsync("AUTH PLAIN " + Plain("admin@example.test", SubmissionServer.Password)), StringComparison.Ordinal);

        Assert.StartsWith("250", await RelayAttempt(smtp, from: "admin@example.test"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task implicit_tls_on_465_greets_inside_tls_and_accepts_an_authenticated_message()
    {
        using var client = await AuthenticatedAsync(Server.SubmissionsPort, SecureSocketOptions.SslOnConnect);
        Assert.True(client.IsSecure);

        var reply = await client.SendAsync(Message("admin@example.test", "admin@example.test"));

        Assert.Contains("queued as", reply, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("admin@example.test", "admin@example.test")]
    [InlineData("admin@example.test", "ADMIN@Example.Test")]
    [InlineData("admin@example.test", "admin+lists@example.test")]
    [InlineData("admin@example.test", "postmaster@example.test")]
    [InlineData("carol@example.test", "sales@example.test")]
    [InlineData("carol@example.test", "anyone@carol.test")]
    [InlineData("carol@example.test", "carol.c@elsewhere.test")]
    [InlineData("carol@example.test", "")]
    public async Task a_user_may_send_as_its_own_addresses_aliases_and_configured_domains(string user, string sender)
    {
        await using var smtp = await AuthenticatedDialogAsync(user);

        Assert.StartsWith("250", await smtp.SendAsync($"MAIL FROM:<{sender}>"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("carol@example.test", "admin@example.test")]
    [InlineData("carol@example.test", "postmaster@example.test")]
    [InlineData("carol@example.test", "someone@elsewhere.test")]
    [InlineData("carol@example.test", "carol@sub.carol.test")]
    [InlineData("admin@example.test", "anyone@carol.test")]
    public async Task an_envelope_sender_the_user_does_not_own_is_refused_with_553_5_7_1(string user, string sender)
    {
        await using var smtp = await AuthenticatedDialogAsync(user);

        Assert.StartsWith("553 5.7.1", await smtp.SendAsync($"MAIL FROM:<{sender}>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_from_header_the_user_does_not_own_is_refused_with_553_5_7_1_at_the_end_of_data()
    {
        using var client = await AuthenticatedAsync(Server.SubmissionPort, SecureSocketOptions.StartTls);
        var message = Message("admin@example.test", "admin@example.test");
        message.From.Add(MailboxAddress.Parse("ceo@elsewhere.test"));

        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message, MailboxAddress.Parse("admin@example.test"), [MailboxAddress.Parse("admin@example.test")]));

        Assert.Equal(553, (int)error.StatusCode);
        Assert.StartsWith("5.7.1 <ceo@elsewhere.test>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_wrong_password_is_answered_late_and_repeated_failures_lock_the_address_out()
    {
        // From an address of its own, so the lockout touches no other test.
        var from = IPAddress.Parse("127.0.0.5");
        await using var smtp = await SmtpDialog.OpenAsync(Server.SubmissionsPort, from, implicitTls: true);
        await smtp.SendAsync("EHLO laptop");

        var clock = Stopwatch.StartNew();
        var first = await smtp.SendAsync("AUTH PLAIN " + Plain("admin@example.test", "guess 1"));
        var firstTook = clock.Elapsed;
        await smtp.SendAsync("AUTH PLAIN " + Plain("admin@example.test", "guess 2"));
        await smtp.SendAsync("AUTH PLAIN " + Plain("nobody@example.test", "guess 3"));
        var right = await smtp.SendAsync("AUTH PLAIN " + Plain("admin@example.test", SubmissionServer.Password));

        Assert.StartsWith("535 5.7.8", first, StringComparison.Ordinal);
        Assert.True(firstTook >= TimeSpan.FromMilliseconds(350), $"the failure was answered after {firstTook.TotalMilliseconds} ms");
        Assert.StartsWith("454 4.7.0", right, StringComparison.Ordinal);
        await using var again = await SmtpDialog.OpenAsync(Server.SubmissionsPort, from, implicitTls: true);
        await again.SendAsync("EHLO laptop");
        Assert.StartsWith("454 4.7.0", await again.SendAsync("AUTH PLAIN " + Plain("admin@example.test", SubmissionServer.Password)), StringComparison.Ordinal);
        await using var other = await AuthenticatedDialogAsync("admin@example.test");
    }

    static string Plain(string user, string password) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    static async Task<string> RelayAttempt(SmtpDialog smtp, string from = "sender@elsewhere.test")
    {
        Assert.StartsWith("250", await smtp.SendAsync($"MAIL FROM:<{from}>"), StringComparison.Ordinal);
        return await smtp.SendAsync("RCPT TO:<someone@elsewhere.test>");
    }

    async Task<SmtpDialog> AuthenticatedDialogAsync(string user)
    {
        var smtp = await SmtpDialog.OpenAsync(Server.SubmissionPort);
        await smtp.SendAsync("EHLO laptop");
        await smtp.StartTlsAsync();
        await smtp.SendAsync("EHLO laptop");
        var reply = await smtp.SendAsync("AUTH PLAIN " + Plain(user, SubmissionServer.Password));
        Assert.StartsWith("235", reply, StringComparison.Ordinal);
        return smtp;
    }

    async Task<SmtpClient> AuthenticatedAsync(int port, SecureSocketOptions security)
    {
        var client = Client();
        await client.ConnectAsync("127.0.0.1", port, security);
        await client.AuthenticateAsync("admin@example.test", SubmissionServer.Password);
        return client;
    }

    static SmtpClient Client() => new()
    {
        ServerCertificateValidationCallback = (_, _, _, _) => true,
        CheckCertificateRevocation = false,
    };

    static MimeMessage Message(string from, string to, string? subject = null)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject ?? "test";
        message.Body = new TextPart("plain") { Text = "Hello.\r\n" };
        return message;
    }
}

public sealed class RoadWarriorWorld : IAsyncLifetime
{
    static readonly IPAddress RemoteMx = IPAddress.Parse("127.0.0.20");
    readonly TempDirectory _data = new();

    public DnsServer Dns { get; private set; } = null!;
    public ScriptedReceiver Remote { get; private set; } = null!;
    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var port = MtaServer.FreePort();
        Dns = DnsServer.Start("--mx-host=remote.test,mx.remote.test,10", "--host-record=mx.remote.test,127.0.0.20");
        Remote = await ScriptedReceiver.StartAsync(RemoteMx, port);
        MtaServer.WriteUsers(_data.Path, ("admin@example.test", SubmissionServer.Password, []));
        Server = await MtaServer.StartAsync(
            Delivery.OutboundWorld.Overlay(Dns, port, "smtp { submission.enabled = on, trusted-networks = [] }"), _data.Path);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Remote.DisposeAsync();
        Dns.Dispose();
        _data.Dispose();
    }
}

/// <summary>The point of submission: a user away from home sends through its own server to anyone.</summary>
public sealed class RoadWarriorTests(RoadWarriorWorld world) : IClassFixture<RoadWarriorWorld>
{
    [Fact]
    public async Task mail_submitted_with_auth_on_587_is_delivered_to_a_foreign_domains_mx()
    {
        var subject = Guid.NewGuid().ToString();
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, CheckCertificateRevocation = false };
        await client.ConnectAsync("127.0.0.1", world.Server.SubmissionPort, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync("admin@example.test", SubmissionServer.Password);

        await client.SendAsync(Mail.Message("admin@example.test", ["friend@remote.test"], subject));

        var delivered = await Eventually.Get(() => world.Remote.Messages.FirstOrDefault(m => m.Text.Contains(subject, StringComparison.Ordinal)), m => m is not null);
        Assert.NotNull(delivered);
        Assert.Equal("admin@example.test", delivered.Sender);
        Assert.Equal(["friend@remote.test"], delivered.Recipients);
        Assert.Contains("with ESMTPSA id", delivered.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_same_message_from_a_stranger_on_the_mx_is_refused_as_relaying()
    {
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(world.Server.Port, "admin@example.test", "friend@remote.test", "relay?"));

        Assert.Equal(550, (int)error.StatusCode);
        Assert.StartsWith("5.7.1", error.Message, StringComparison.Ordinal);
    }
}
