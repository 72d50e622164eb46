using System.Net;
using ActorMta.Persistence;
using ActorMta.Tests.Support;
using MimeKit;
using SmtpServer.Protocol;

namespace ActorMta.Tests.Delivery;

/// <summary>
/// A small Internet on loopback: dnsmasq serving MX and A records for .test domains, and
/// scripted SMTP receivers on 127.0.0.1x addresses, all on one port.
/// </summary>
public sealed class OutboundWorld : IAsyncLifetime
{
    public static readonly IPAddress Ok = IPAddress.Parse("127.0.0.10");
    public static readonly IPAddress Down = IPAddress.Parse("127.0.0.11");
    public static readonly IPAddress Backup = IPAddress.Parse("127.0.0.12");
    public static readonly IPAddress Implicit = IPAddress.Parse("127.0.0.13");
    public static readonly IPAddress Busy = IPAddress.Parse("127.0.0.14");
    public static readonly IPAddress Flaky = IPAddress.Parse("127.0.0.15");

    public int SmtpPort { get; } = MtaServer.FreePort();
    public DnsServer Dns { get; private set; } = null!;
    public ScriptedReceiver OkMx { get; private set; } = null!;
    public ScriptedReceiver BackupMx { get; private set; } = null!;
    public ScriptedReceiver ImplicitMx { get; private set; } = null!;
    public ScriptedReceiver BusyMx { get; private set; } = null!;
    public ScriptedReceiver FlakyMx { get; private set; } = null!;
    public MtaServer Mta { get; private set; } = null!;

    public static string[] Records =>
    [
        "--mx-host=ok.test,mx.ok.test,10", "--host-record=mx.ok.test,127.0.0.10",
        "--mx-host=backup.test,mx1.backup.test,10", "--host-record=mx1.backup.test,127.0.0.11",
        "--mx-host=backup.test,mx2.backup.test,20", "--host-record=mx2.backup.test,127.0.0.12",
        "--mx-host=busy.test,mx1.busy.test,10", "--host-record=mx1.busy.test,127.0.0.14",
        "--mx-host=busy.test,mx2.busy.test,20", "--host-record=mx2.busy.test,127.0.0.12",
        "--host-record=implicit.test,127.0.0.13",
        "--mx-host=down.test,mx.down.test,10", "--host-record=mx.down.test,127.0.0.11",
        "--mx-host=flaky.test,mx.flaky.test,10", "--host-record=mx.flaky.test,127.0.0.15",
        DnsServer.NullMx("nullmx.test"),
        "--mx-host=alias.test,mx.alias.test,10", "--cname=mx.alias.test,mx.ok.test",
        "--mx-host=tlsonly.test,mx.ok.test,10",
    ];

    public async Task InitializeAsync()
    {
        Dns = DnsServer.Start(Records);
        OkMx = await ScriptedReceiver.StartAsync(Ok, SmtpPort);
        BackupMx = await ScriptedReceiver.StartAsync(Backup, SmtpPort);
        ImplicitMx = await ScriptedReceiver.StartAsync(Implicit, SmtpPort);
        BusyMx = await ScriptedReceiver.StartAsync(Busy, SmtpPort);
        BusyMx.Greeting = "421 4.3.2 mx1.busy.test too busy, try later";
        FlakyMx = await ScriptedReceiver.StartAsync(Flaky, SmtpPort);
        Mta = await MtaServer.StartAsync(Overlay(Dns, SmtpPort, """delivery.destinations."tlsonly.test".require-tls = on"""));
    }

    /// <summary>Retries after a second, every second: the schedule's shape is unit-tested, here only its effect.</summary>
    public static string Overlay(DnsServer dns, int smtpPort, string extra = "") => $$"""
        actormta {
          delivery.dns-server = "127.0.0.1:{{dns.Port}}"
          delivery.port = {{smtpPort}}
          delivery.connect-timeout = 2s
          queue { first-retry = 1s, backoff-factor = 1.0, max-retry-interval = 1s, retry-jitter = 0 }
          {{extra}}
        }
        """;

    public async Task DisposeAsync()
    {
        await Mta.DisposeAsync();
        foreach (var receiver in new[] { OkMx, BackupMx, ImplicitMx, BusyMx, FlakyMx })
            await receiver.DisposeAsync();
        Dns.Dispose();
    }
}

/// <summary>Mail for other domains goes to the right host, and what cannot go comes back as an RFC 3464 report.</summary>
public sealed class OutboundDeliveryTests(OutboundWorld world) : IClassFixture<OutboundWorld>
{
    const string Sender = "admin@example.test";
    MtaServer Mta => world.Mta;

    [Fact]
    public async Task a_remote_recipient_is_delivered_to_the_domains_mx_host()
    {
        var subject = Unique();

        await Mail.SendAsync(Mta.Port, Sender, "someone@ok.test", subject);

        var received = await ReceivedBy(world.OkMx, subject);
        Assert.Equal(Sender, received.Sender);
        Assert.Equal(["someone@ok.test"], received.Recipients);
        Assert.Contains("by mail.example.test (ActorMta)", received.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task when_the_first_mx_refuses_connections_the_next_preference_gets_the_message()
    {
        var subject = Unique();

        await Mail.SendAsync(Mta.Port, Sender, "someone@backup.test", subject);

        await ReceivedBy(world.BackupMx, subject);
    }

    [Fact]
    public async Task a_421_greeting_sends_the_message_to_the_next_mx()
    {
        var subject = Unique();

        await Mail.SendAsync(Mta.Port, Sender, "someone@busy.test", subject);

        await ReceivedBy(world.BackupMx, subject);
    }

    [Fact]
    public async Task a_domain_without_mx_records_gets_mail_at_its_address_record()
    {
        var subject = Unique();

        await Mail.SendAsync(Mta.Port, Sender, "someone@implicit.test", subject);

        await ReceivedBy(world.ImplicitMx, subject);
    }

    [Fact]
    public async Task an_mx_name_that_is_an_alias_is_followed()
    {
        var subject = Unique();

        await Mail.SendAsync(Mta.Port, Sender, "someone@alias.test", subject);

        await ReceivedBy(world.OkMx, subject);
    }

    [Fact]
    public async Task a_destination_that_requires_tls_gets_nothing_from_a_server_without_starttls()
    {
        var subject = Unique();

        var queueId = await Mail.SendAsync(Mta.Port, Sender, "someone@tlsonly.test", subject);

        var queue = new QueueStore(Mta.Settings.QueueDatabasePath);
        var entry = await Eventually.GetAsync(() => queue.FindAsync(queueId), e => e?.State == QueueStore.Deferred);
        Assert.Equal(QueueStore.Deferred, entry?.State);
        Assert.DoesNotContain(world.OkMx.Messages, m => m.Text.Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_null_mx_fails_at_once_and_the_sender_gets_a_5_1_10_report()
    {
        var queueId = await Mail.SendAsync(Mta.Port, Sender, "someone@nullmx.test", Unique());

        var dsn = await Report(queueId);

        var status = Assert.Single(RecipientGroups(dsn));
        Assert.Equal("failed", status["Action"]);
        Assert.Equal("5.1.10", status["Status"]);
        Assert.Equal("rfc822; someone@nullmx.test", status["Final-Recipient"]);
    }

    [Fact]
    public async Task an_unknown_domain_fails_at_once_with_5_1_2()
    {
        var queueId = await Mail.SendAsync(Mta.Port, Sender, "someone@nosuch.test", Unique());

        var status = Assert.Single(RecipientGroups(await Report(queueId)));

        Assert.Equal("5.1.2", status["Status"]);
    }

    [Fact]
    public async Task each_recipient_gets_its_own_outcome_within_one_transaction()
    {
        var subject = Unique();
        var (good, later, gone) = ($"good-{subject}@ok.test", $"later-{subject}@ok.test", $"gone-{subject}@ok.test");
        world.OkMx.RecipientReplies[later] = asked => asked == 0 ? new SmtpResponse(SmtpReplyCode.Aborted, "4.2.1 mailbox busy") : null;
        world.OkMx.RecipientReplies[gone] = _ => new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 no such user");

        var queueId = await Mail.SendAsync(Mta.Port, Mail.Message(Sender, [good, later, gone], subject));

        var first = await ReceivedBy(world.OkMx, subject);
        Assert.Equal([good], first.Recipients);
        var retried = await Eventually.Get(() => world.OkMx.Messages.Where(m => m.Text.Contains(subject, StringComparison.Ordinal)).ToList(), m => m.Count >= 2);
        Assert.Equal([later], retried[1].Recipients);

        var failure = await Report(queueId, "Undelivered Mail Returned to Sender");
        var failed = Assert.Single(RecipientGroups(failure));
        Assert.Equal($"rfc822; {gone}", failed["Final-Recipient"]);
        Assert.Equal("5.1.1", failed["Status"]);
        Assert.Equal("dns; mx.ok.test", failed["Remote-MTA"]);
        Assert.StartsWith("smtp; 550 5.1.1 no such user", failed["Diagnostic-Code"], StringComparison.Ordinal);

        var delay = await Report(queueId, "Delayed Mail (still being retried)");
        var delayed = Assert.Single(RecipientGroups(delay));
        Assert.Equal($"rfc822; {later}", delayed["Final-Recipient"]);
        Assert.Equal("delayed", delayed["Action"]);
        Assert.Equal("4.2.1", delayed["Status"]);
        Assert.NotNull(delayed["Will-Retry-Until"]);
        Assert.Contains("THIS IS A WARNING ONLY", delay.TextBody ?? "", StringComparison.Ordinal);
        Assert.Contains("It will be retried until", delay.TextBody ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_temporary_failure_at_end_of_data_is_retried_until_delivered()
    {
        var subject = Unique();
        world.FlakyMx.DataReply = count => count == 0 ? new SmtpResponse(SmtpReplyCode.Aborted, "4.3.0 try again") : null;

        await Mail.SendAsync(Mta.Port, Sender, "someone@flaky.test", subject);

        await ReceivedBy(world.FlakyMx, subject);
    }

    [Fact]
    public async Task a_failure_report_is_an_rfc_3464_multipart_report_from_the_null_sender()
    {
        var subject = Unique();
        var queueId = await Mail.SendAsync(Mta.Port, Sender, "someone@nosuch.test", subject);

        var (dsn, file) = await ReportFile(queueId, "Undelivered Mail Returned to Sender");

        Assert.StartsWith("Return-Path: <>\n", File.ReadAllText(file), StringComparison.Ordinal);
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.IsType<TextPart>(report[0]);
        Assert.IsType<MessageDeliveryStatus>(report[1]);
        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal(subject, headers.Message?.Subject);
        Assert.Equal("MAILER-DAEMON@mail.example.test", dsn.From.Mailboxes.Single().Address);
        Assert.Equal("auto-replied", dsn.Headers["Auto-Submitted"]);
        Assert.Equal("dns; mail.example.test", Status(dsn).StatusGroups[0]["Reporting-MTA"]);
    }

    [Fact]
    public async Task a_remote_sender_gets_its_failure_report_from_the_null_sender_at_its_own_mx()
    {
        var subject = Unique();
        var sender = $"author-{subject}@ok.test";

        var queueId = await Mail.SendAsync(Mta.Port, sender, "someone@nosuch.test", subject);

        var reports = await Eventually.Get(() => world.OkMx.Messages.Where(m => m.Text.Contains($"X-ActorMta-Queue-ID: {queueId}", StringComparison.Ordinal)).ToList(), m => m.Count > 0);
        var report = Assert.Single(reports);
        Assert.Equal("", report.Sender);
        Assert.Equal([sender], report.Recipients);
        Assert.Contains("Content-Type: multipart/report", report.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task mail_from_the_null_sender_is_never_bounced()
    {
        var subject = Unique();
        var gone = $"gone-{subject}@ok.test";
        world.OkMx.RecipientReplies[gone] = _ => new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 no such user");
        await using var smtp = await SmtpDialog.OpenAsync(Mta.Port);
        await smtp.SendAsync("EHLO client.test");
        await smtp.SendAsync("MAIL FROM:<>");
        await smtp.SendAsync($"RCPT TO:<{gone}>");
        await smtp.SendAsync("DATA");
        var queueId = (await smtp.SendAsync($"Subject: {subject}\r\n\r\nA bounce.\r\n.")).Split("queued as ")[1].Trim();

        var queue = new QueueStore(Mta.Settings.QueueDatabasePath);
        await Eventually.GetAsync(() => queue.FindAsync(queueId), entry => entry is null);

        Assert.Null(await queue.FindAsync(queueId));
        Assert.Null(await queue.FindAsync(queueId + "B1"));
        Assert.DoesNotContain(Mta.DeliveredFiles(Sender), f => File.ReadAllText(f).Contains(queueId, StringComparison.Ordinal));
    }

    static string Unique() => Guid.NewGuid().ToString("N")[..12];

    static async Task<Delivered> ReceivedBy(ScriptedReceiver receiver, string subject)
    {
        var messages = await Eventually.Get(() => receiver.Messages.Where(m => m.Text.Contains(subject, StringComparison.Ordinal)).ToList(), m => m.Count > 0);
        return Assert.Single(messages.Take(1));
    }

    Task<MimeMessage> Report(string queueId, string? subject = null) => ReportFile(queueId, subject).ContinueWith(t => t.Result.Message, TaskScheduler.Default);

    /// <summary>The notice about <paramref name="queueId"/> in the sender's local mailbox.</summary>
    async Task<(MimeMessage Message, string File)> ReportFile(string queueId, string? subject = null)
    {
        var files = await Eventually.Get(() => Notices(queueId, subject), found => found.Count > 0, TimeSpan.FromSeconds(30));
        var file = Assert.Single(files);
        return (MimeMessage.Load(file), file);
    }

    List<string> Notices(string queueId, string? subject) =>
        [.. Mta.DeliveredFiles(Sender).Where(f =>
        {
            var text = File.ReadAllText(f);
            return text.Contains($"X-ActorMta-Queue-ID: {queueId}", StringComparison.Ordinal)
                && (subject is null || text.Contains($"Subject: {subject}\n", StringComparison.Ordinal));
        })];

    static List<HeaderList> RecipientGroups(MimeMessage dsn) => [.. Status(dsn).StatusGroups.Skip(1).Where(g => g.Count > 0)];

    static MessageDeliveryStatus Status(MimeMessage dsn) => Assert.IsType<MultipartReport>(dsn.Body).OfType<MessageDeliveryStatus>().Single();
}
