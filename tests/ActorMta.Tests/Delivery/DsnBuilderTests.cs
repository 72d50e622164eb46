using System.Text;
using ActorMta.Delivery;
using ActorMta.Protocol;
using ActorMta.Queue;
using MimeKit;
using MimeKit.Utils;
using static ActorMta.Tests.Queue.QueueFixtures;

namespace ActorMta.Tests.Delivery;

/// <summary>Delivery status notifications (RFC 3464) as the sender's mail program reads them.</summary>
public sealed class DsnBuilderTests
{
    const string Hostname = "mail.example.test";
    static readonly DateTimeOffset Now = T0.AddMinutes(7);
    static readonly byte[] Original = Encoding.ASCII.GetBytes(
        "Received: from client.test ([192.0.2.7])\r\n\tby mail.example.test (ActorMta) with ESMTP id 01JNQ0000000ABCD;\r\n\tSat, 01 Mar 2025 12:00:00 +0000\r\n"
        + "From: Sender <sender@foreign.test>\r\nTo: team@example.test\r\nSubject: Quarterly figures\r\nMessage-ID: <figures@foreign.test>\r\n\r\n"
        + "CONFIDENTIAL BODY LINE\r\nSubject: not a header, part of the body\r\n");

    static readonly AttemptReport MailboxFull = new("5.2.2", "maildir delivery failed: quota exceeded", Relay: "local");

    /// <summary>
    /// alice (RCPT as Alice@example.test) and bob (through the alias team) bounced locally,
    /// carol (also through team) was delivered, someone@foreign.test was refused by its MX.
    /// </summary>
    static MessageState Bounced() =>
        Accepted("Alice@example.test", "team@example.test", "someone@foreign.test")
            .Bounce(0, T0.AddMinutes(1), MailboxFull)
            .Bounce(1, T0.AddMinutes(1), MailboxFull)
            .Deliver(2, T0.AddMinutes(1))
            .Bounce(3, T0.AddMinutes(2), UserUnknown);

    /// <summary>alice@example.test waits on a full disk; someone@slow.test (maximum age 1 day) on a refusing MX.</summary>
    static MessageState Delayed() =>
        Accepted("alice@example.test", "someone@slow.test")
            .Defer(0, T0.AddMinutes(1))
            .Defer(1, T0.AddMinutes(1), Refused);

    static (MimeMessage Notice, byte[] Bytes) Build(MessageState state, byte[]? original = null)
    {
        var notice = state.NextNotice(Now, Policy())!;
        var bytes = new DsnBuilder(Hostname).Build(state, notice, original ?? Original, Policy(), Now);
        return (MimeMessage.Load(new MemoryStream(bytes)), bytes);
    }

    static MultipartReport Report(MimeMessage notice) => Assert.IsType<MultipartReport>(notice.Body);

    static List<HeaderList> Groups(MimeMessage notice) =>
        [.. Report(notice).OfType<MessageDeliveryStatus>().Single().StatusGroups.Where(g => g.Count > 0)];

    static List<HeaderList> RecipientGroups(MimeMessage notice) => [.. Groups(notice).Skip(1)];

    static DateTimeOffset Date(string? text) => DateUtils.TryParse(text, out var date) ? date : throw new FormatException($"not a date: {text}");

    [Fact]
    public void notice_is_a_delivery_status_report_in_three_parts()
    {
        var report = Report(Build(Bounced()).Notice);

        Assert.Equal("multipart/report", report.ContentType.MimeType);
        Assert.Equal("delivery-status", report.ContentType.Parameters["report-type"]);
        Assert.Equal(3, report.Count);
        Assert.Equal("text/plain", report[0].ContentType.MimeType);
        Assert.Equal("message/delivery-status", report[1].ContentType.MimeType);
        Assert.Equal("text/rfc822-headers", report[2].ContentType.MimeType);
    }

    [Fact]
    public void notice_comes_from_the_mailer_daemon_to_the_sender_as_an_automatic_reply()
    {
        var notice = Build(Bounced()).Notice;

        Assert.Equal("MAILER-DAEMON@mail.example.test", Assert.IsType<MailboxAddress>(Assert.Single(notice.From)).Address);
        Assert.Equal(Sender, Assert.IsType<MailboxAddress>(Assert.Single(notice.To)).Address);
        Assert.Equal("Undelivered Mail Returned to Sender", notice.Subject);
        Assert.Equal($"{QueueId}B1@{Hostname}", notice.MessageId);
        Assert.Equal("auto-replied", notice.Headers["Auto-Submitted"]);
        Assert.Equal(Now, notice.Date);
    }

    [Fact]
    public void the_message_group_names_this_server_and_the_arrival_date()
    {
        var group = Groups(Build(Bounced()).Notice)[0];

        Assert.Equal("dns; mail.example.test", group["Reporting-MTA"]);
        Assert.Equal(QueueId, group["X-ActorMta-Queue-ID"]);
        Assert.Equal(T0, Date(group["Arrival-Date"]));
    }

    [Fact]
    public void a_failure_notice_has_one_group_per_failed_recipient_and_none_for_the_delivered()
    {
        var groups = RecipientGroups(Build(Bounced()).Notice);

        Assert.Equal(
            ["rfc822; alice@example.test", "rfc822; bob@example.test", "rfc822; someone@foreign.test"],
            groups.Select(g => g["Final-Recipient"]));
        Assert.All(groups, g => Assert.Equal("failed", g["Action"]));
        Assert.Equal(["5.2.2", "5.2.2", "5.1.1"], groups.Select(g => g["Status"]));
        Assert.All(groups, g => Assert.Equal(Now, Date(g["Last-Attempt-Date"])));
    }

    [Fact]
    public void original_recipient_is_given_only_when_the_address_was_rewritten()
    {
        var groups = RecipientGroups(Build(Bounced()).Notice);

        // Alice@example.test differs from alice@example.test only in case: the same address.
        Assert.Null(groups[0]["Original-Recipient"]);
        Assert.Equal("rfc822; team@example.test", groups[1]["Original-Recipient"]);
        Assert.Null(groups[2]["Original-Recipient"]);
    }

    [Fact]
    public void remote_mta_and_diagnostic_code_are_given_when_the_remote_server_answered()
    {
        var groups = RecipientGroups(Build(Bounced()).Notice);

        Assert.Equal("dns; mx.foreign.test", groups[2]["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 <someone@foreign.test>: no such user", groups[2]["Diagnostic-Code"]);
        Assert.Null(groups[0]["Remote-MTA"]);
        Assert.Null(groups[0]["Diagnostic-Code"]);
    }

    [Fact]
    public void a_failure_notice_promises_no_retry()
    {
        Assert.All(RecipientGroups(Build(Bounced()).Notice), g => Assert.Null(g["Will-Retry-Until"]));
    }

    [Fact]
    public void a_delay_notice_reports_each_recipient_as_delayed_until_its_own_maximum_age()
    {
        var notice = Build(Delayed()).Notice;
        var groups = RecipientGroups(notice);

        Assert.Equal("Delayed Mail (still being retried)", notice.Subject);
        Assert.Equal($"{QueueId}D1@{Hostname}", notice.MessageId);
        Assert.Equal(["rfc822; alice@example.test", "rfc822; someone@slow.test"], groups.Select(g => g["Final-Recipient"]));
        Assert.All(groups, g => Assert.Equal("delayed", g["Action"]));
        Assert.Equal(["4.2.0", "4.4.1"], groups.Select(g => g["Status"]));
        Assert.Equal([T0.AddDays(5), T0.AddDays(1)], groups.Select(g => Date(g["Will-Retry-Until"])));
        Assert.Null(groups[0]["Remote-MTA"]);
        Assert.Equal("dns; mx.foreign.test", groups[1]["Remote-MTA"]);
        // No reply was received: there is nothing to quote.
        Assert.Null(groups[1]["Diagnostic-Code"]);
    }

    [Fact]
    public void a_delay_notice_tells_the_sender_not_to_send_again()
    {
        var text = Build(Delayed()).Notice.TextBody;

        Assert.Contains("THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE.", text, StringComparison.Ordinal);
        Assert.Contains("<someone@slow.test>: connection refused", text, StringComparison.Ordinal);
    }

    [Fact]
    public void a_notice_for_expired_mail_says_how_long_it_waited()
    {
        var state = Accepted("someone@foreign.test").Defer(0, T0, Refused);
        state = state.ApplyAll(state.Expire(T0.AddDays(5), Policy(), new HashSet<int>()));
        var notice = state.NextNotice(T0.AddDays(5), Policy())!;

        var dsn = MimeMessage.Load(new MemoryStream(new DsnBuilder(Hostname).Build(state, notice, Original, Policy(), T0.AddDays(5))));

        Assert.Contains("could not be delivered for 5 days", dsn.TextBody, StringComparison.Ordinal);
        var group = RecipientGroups(dsn).Single();
        Assert.Equal("failed", group["Action"]);
        Assert.Equal("4.4.1", group["Status"]);
    }

    [Fact]
    public void the_original_headers_come_back_without_the_original_body()
    {
        var (notice, bytes) = Build(Bounced());

        var headers = Assert.IsType<TextRfc822Headers>(Report(notice)[2]);
        Assert.NotNull(headers.Message);
        Assert.Equal("Quarterly figures", headers.Message.Subject);
        Assert.Equal("figures@foreign.test", headers.Message.MessageId);
        Assert.DoesNotContain("CONFIDENTIAL", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.DoesNotContain("not a header", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void the_original_body_stays_out_even_when_the_client_ended_its_lines_with_bare_lf()
    {
        // The edge's Received header ends in CRLF; the client's own lines may not.
        var careless = Encoding.ASCII.GetBytes("Received: from client.test\r\n\tby mail.example.test; Sat, 01 Mar 2025 12:00:00 +0000\r\nSubject: Quarterly figures\nFrom: sender@foreign.test\n\nCONFIDENTIAL BODY LINE\n");

        var (notice, bytes) = Build(Bounced(), careless);

        Assert.Equal("Quarterly figures", Assert.IsType<TextRfc822Headers>(Report(notice)[2]).Message?.Subject);
        Assert.DoesNotContain("CONFIDENTIAL", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void a_notice_is_built_even_when_the_original_is_gone()
    {
        var (notice, _) = Build(Bounced(), []);

        Assert.Equal(3, Report(notice).Count);
        Assert.Equal(3, RecipientGroups(notice).Count);
    }

    [Fact]
    public void a_notice_is_queued_in_wire_form_with_crlf_line_endings()
    {
        // Like mail received over SMTP; LMTP passes the queued bytes on as they are.
        var text = Encoding.ASCII.GetString(Build(Delayed()).Bytes);

        Assert.Contains("\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", text.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
