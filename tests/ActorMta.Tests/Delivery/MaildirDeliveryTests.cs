using System.Text;
using ActorMta.Delivery;
using MimeKit;

using ActorMta.Tests.Support;

namespace ActorMta.Tests.Delivery;

public sealed class MaildirDeliveryTests : IDisposable
{
    const string QueueId = "01JNQ0000000ABCD";
    static readonly DateTimeOffset AcceptedAt = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly byte[] Body = Encoding.UTF8.GetBytes(
        "From: Sender <sender@foreign.test>\r\nTo: alice@example.test\r\nSubject: Lunch\r\n\r\nSee you at noon.\r\nBring the cat.\r\n");

    readonly TempDirectory _temp = new();
    readonly string _mailRoot;
    readonly MaildirDelivery _maildir;

    public MaildirDeliveryTests()
    {
        // Nested, so that even a regression that let "../" through would stay inside the temp directory.
        _mailRoot = Path.Combine(_temp.Path, "1", "2", "3", "4", "mail");
        _maildir = new MaildirDelivery(_mailRoot, "mail.example.test");
    }

    public void Dispose() => _temp.Dispose();

    string Mailbox(string domain, string local) => Path.Combine(_mailRoot, domain, local);

    string Deliver(string mailbox = "alice@example.test", int index = 0, bool checkExisting = false, string sender = "sender@foreign.test", string original = "Alice+lunch@example.test") =>
        _maildir.Deliver(mailbox, QueueId, index, AcceptedAt, sender, original, Body, checkExisting);

    [Fact]
    public void delivered_message_appears_in_new_and_nothing_is_left_in_tmp()
    {
        var path = Deliver();

        Assert.Equal(Path.Combine(Mailbox("example.test", "alice"), "new"), Path.GetDirectoryName(path));
        Assert.Equal([path], Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "new")));
        Assert.Empty(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "tmp")));
        Assert.True(Directory.Exists(Path.Combine(Mailbox("example.test", "alice"), "cur")));
    }

    [Fact]
    public void delivered_message_starts_with_return_path_delivered_to_and_x_original_to()
    {
        var text = File.ReadAllText(Deliver());

        Assert.StartsWith(
            "Return-Path: <sender@foreign.test>\nDelivered-To: alice@example.test\nX-Original-To: Alice+lunch@example.test\nFrom: Sender <sender@foreign.test>\n",
            text,
            StringComparison.Ordinal);
    }

    [Fact]
    public void bounce_with_null_sender_gets_an_empty_return_path()
    {
        var text = File.ReadAllText(Deliver(sender: ""));

        Assert.StartsWith("Return-Path: <>\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void delivered_message_is_stored_with_lf_line_endings()
    {
        var bytes = File.ReadAllBytes(Deliver());

        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.EndsWith("\n\nSee you at noon.\nBring the cat.\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void delivered_message_is_still_a_readable_mime_message()
    {
        var message = MimeMessage.Load(Deliver());

        Assert.Equal("Lunch", message.Subject);
        Assert.Equal("alice@example.test", message.Headers["Delivered-To"]);
        Assert.Equal("Alice+lunch@example.test", message.Headers["X-Original-To"]);
        Assert.Equal("See you at noon.\nBring the cat.\n", message.TextBody?.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void file_name_is_a_maildir_unique_name_with_the_real_size()
    {
        var path = Deliver(index: 3);
        var name = Path.GetFileName(path);

        Assert.StartsWith($"{AcceptedAt.ToUnixTimeSeconds()}.{QueueId}R3.mail.example.test,S=", name, StringComparison.Ordinal);
        Assert.Equal(new FileInfo(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), name[(name.IndexOf(",S=", StringComparison.Ordinal) + 3)..]);
    }

    [Fact]
    public void repeated_delivery_after_a_crash_finds_the_first_copy_in_new()
    {
        var first = Deliver();

        var second = Deliver(checkExisting: true);

        Assert.Equal(first, second);
        Assert.Single(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "new")));
        Assert.Empty(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "tmp")));
    }

    [Fact]
    public void repeated_delivery_finds_the_first_copy_after_the_reader_moved_it_to_cur()
    {
        var first = Deliver();
        var cur = Path.Combine(Mailbox("example.test", "alice"), "cur", Path.GetFileName(first) + ":2,S");
        File.Move(first, cur);

        var second = Deliver(checkExisting: true);

        Assert.Equal(cur, second);
        Assert.Empty(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "new")));
        Assert.Single(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "cur")));
        Assert.Empty(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "tmp")));
    }

    [Fact]
    public void repeated_delivery_finds_the_first_copy_in_cur_without_flags()
    {
        var first = Deliver();
        var cur = Path.Combine(Mailbox("example.test", "alice"), "cur", Path.GetFileName(first));
        File.Move(first, cur);

        Assert.Equal(cur, Deliver(checkExisting: true));
        Assert.Empty(Directory.GetFiles(Path.Combine(Mailbox("example.test", "alice"), "new")));
    }

    [Fact]
    public void repeated_delivery_does_not_take_another_recipients_copy_for_its_own()
    {
        var other = Deliver(index: 1);
        var cur = Path.Combine(Mailbox("example.test", "alice"), "cur", Path.GetFileName(other) + ":2,S");
        File.Move(other, cur);
        // R1 is a prefix of R10 and R11: the check must not mistake one for the other.
        var eleventh = Deliver(index: 11);
        File.Move(eleventh, Path.Combine(Mailbox("example.test", "alice"), "cur", Path.GetFileName(eleventh)));

        var path = Deliver(index: 0, checkExisting: true);

        Assert.NotEqual(cur, path);
        Assert.Equal(Path.Combine(Mailbox("example.test", "alice"), "new"), Path.GetDirectoryName(path));
        Assert.Contains($"{QueueId}R0.", Path.GetFileName(path), StringComparison.Ordinal);
        Assert.Equal(cur, Deliver(index: 1, checkExisting: true));
    }

    [Fact]
    public void each_mailbox_gets_its_own_maildir()
    {
        var alice = Deliver("alice@example.test", index: 0);
        var carol = Deliver("carol@other.test", index: 1);

        Assert.StartsWith(Mailbox("example.test", "alice") + Path.DirectorySeparatorChar, alice, StringComparison.Ordinal);
        Assert.StartsWith(Mailbox("other.test", "carol") + Path.DirectorySeparatorChar, carol, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../../../etc/cron.d/x@example.test")]
    [InlineData("../alice@example.test")]
    [InlineData("..@example.test")]
    [InlineData(".@example.test")]
    [InlineData(".hidden@example.test")]
    [InlineData("/etc/passwd@example.test")]
    [InlineData("a/../../b@example.test")]
    [InlineData("a\\..\\..\\b@example.test")]
    [InlineData("alice@..")]
    [InlineData("alice@../../etc")]
    [InlineData("\"x@/tmp\"@example.test")]
    public void local_part_cannot_escape_the_mail_root(string mailbox)
    {
        var root = Path.GetFullPath(_mailRoot) + Path.DirectorySeparatorChar;

        var mailboxPath = Path.GetFullPath(_maildir.MailboxPath(mailbox));
        // Checked before delivering, so that a regression never writes outside the test's directory.
        Assert.StartsWith(root, mailboxPath, StringComparison.Ordinal);

        var path = Path.GetFullPath(Deliver(mailbox));

        Assert.StartsWith(root, path, StringComparison.Ordinal);
        // Exactly <root>/<domain>/<local part>/new/<file>: no segment climbed or vanished.
        Assert.Equal(4, Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar).Length);
        Assert.Equal(Path.Combine(mailboxPath, "new"), Path.GetDirectoryName(path));
        Assert.DoesNotContain(Path.GetRelativePath(root, mailboxPath).Split(Path.DirectorySeparatorChar), s => s.StartsWith('.'));
    }

    [Fact]
    public void leading_dot_local_part_does_not_become_a_hidden_or_parent_directory()
    {
        Assert.Equal(Mailbox("example.test", "_hidden"), _maildir.MailboxPath(".hidden@example.test"));
        Assert.Equal(Mailbox("example.test", "_."), _maildir.MailboxPath("..@example.test"));
        Assert.Equal(Mailbox("example.test", "a_.._b"), _maildir.MailboxPath("a/../b@example.test"));
    }

    [Fact]
    public void quoted_local_part_with_at_sign_stays_in_the_local_domain()
    {
        Assert.Equal(Mailbox("example.test", "\"x@other.test\""), _maildir.MailboxPath("\"x@other.test\"@example.test"));
    }
}
