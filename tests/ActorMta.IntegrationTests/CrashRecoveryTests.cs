using ActorMta.IntegrationTests.Support;
using ActorMta.Persistence;
using MailKit.Net.Smtp;
using MimeKit;

namespace ActorMta.IntegrationTests;

/// <summary>A message answered with 250 is never lost and never delivered twice, whatever kills the process.</summary>
public sealed class CrashRecoveryTests : IDisposable
{
    readonly string _data = Path.Combine(Path.GetTempPath(), "actormta-it", Guid.NewGuid().ToString("N"));
    readonly int _port = MtaProcess.FreePort();
    readonly string _config;

    public CrashRecoveryTests()
    {
        Directory.CreateDirectory(_data);
        _config = Path.Combine(_data, "test.conf");
        File.WriteAllText(_config, $$"""
            actormta {
              data-dir = "{{_data}}"
              smtp.port = {{_port}}
              queue.poll-interval = 200ms
            }
            """);
    }

    [Fact]
    public async Task a_queued_message_survives_sigkill_and_is_delivered_exactly_once_after_restart()
    {
        string queueId;
        using (var held = await MtaProcess.StartAsync(_config, new Dictionary<string, string> { ["ACTORMTA_HOLD"] = "on" }))
        {
            queueId = await Send("postmaster@example.test");
            Assert.Equal(1, await Queue.CountAsync());
            Assert.Empty(Delivered());
            held.Kill();
        }

        using var restarted = await MtaProcess.StartAsync(_config);

        await Drained(restarted);
        Assert.Single(Delivered(), f => f.Contains(queueId, StringComparison.Ordinal));
        Assert.Single(Delivered());
    }

    [Fact]
    public async Task sigkill_right_after_250_neither_loses_nor_duplicates_messages()
    {
        var queueIds = new List<string>();
        using (var running = await MtaProcess.StartAsync(_config))
        {
            for (var i = 0; i < 5; i++)
                queueIds.Add(await Send("admin@example.test"));
            // Whatever was delivered, in flight, or only journaled at this instant:
            running.Kill();
        }

        using var restarted = await MtaProcess.StartAsync(_config);

        await Drained(restarted);
        var delivered = Delivered();
        Assert.Equal(5, delivered.Count);
        foreach (var queueId in queueIds)
            Assert.Single(delivered, f => f.Contains(queueId, StringComparison.Ordinal));
    }

    QueueStore Queue => new(Path.Combine(_data, "queue.db"));

    IReadOnlyList<string> Delivered()
    {
        var maildir = Path.Combine(_data, "mail", "example.test", "admin");
        return Directory.Exists(maildir)
            ? Directory.GetFiles(Path.Combine(maildir, "new")).Concat(Directory.GetFiles(Path.Combine(maildir, "cur"))).ToList()
            : [];
    }

    async Task Drained(MtaProcess process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await Queue.CountAsync() > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "queue did not drain:\n" + process.Output);
            await Task.Delay(100);
        }
    }

    async Task<string> Send(string to)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@elsewhere.test"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "crash test";
        message.Body = new TextPart("plain") { Text = "Survive this.\r\n" };
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", _port, MailKit.Security.SecureSocketOptions.None);
        var reply = await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return reply.Split("queued as ")[1].Trim();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
