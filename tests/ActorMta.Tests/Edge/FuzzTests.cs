using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using ActorMta.Edge;
using ActorMta.Tests.Support;
using MailKit.Net.Smtp;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Xunit.Abstractions;

namespace ActorMta.Tests.Edge;

/// <summary>Runs alone, so that the memory it measures is its own server's.</summary>
[CollectionDefinition(nameof(FuzzCollection), DisableParallelization = true)]
public sealed class FuzzCollection;

/// <summary>
/// Random and malformed bytes, bounded in count and time, thrown at the MX and the implicit-TLS
/// submission listener by strangers. Afterwards the server still takes a normal message, every
/// connection has been let go, and memory has not grown with the connections.
/// </summary>
[Collection(nameof(FuzzCollection))]
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    const int Connections = 300;
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    static readonly string[] Verbs =
    [
        "EHLO", "HELO", "MAIL FROM:", "RCPT TO:", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP",
        "STARTTLS", "AUTH PLAIN", "AUTH LOGIN", "AUTH CRAM-MD5", "BDAT 10", "PROXY TCP4", "\0", "..", ".",
    ];

    readonly TempDirectory _data = new();
    MtaServer _server = null!;

    public async Task InitializeAsync()
    {
        MtaServer.WriteUsers(_data.Path, ("admin@example.test", "correct horse battery staple", []));
        _server = await MtaServer.StartAsync("""
            actormta.smtp {
              submissions.enabled = on
              trusted-networks = []
              max-message-size = 100000
              auth.failure-delay = 10ms
            }
            """, _data.Path);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task random_and_malformed_input_leaves_the_server_serving_with_bounded_memory()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var payloads = Enumerable.Range(0, Connections).Select(_ => Payload(random)).ToList();

        await Task.WhenAll(payloads.Take(30).Select(Throw));
        var baseline = SettledMemory();
        var clock = Stopwatch.StartNew();
        var next = 30;
        var sent = 30;
        await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            while (clock.Elapsed < Budget && Interlocked.Increment(ref next) - 1 is var i && i < payloads.Count)
            {
                await Throw(payloads[i]);
                Interlocked.Increment(ref sent);
            }
        }));
        output.WriteLine($"{sent} connections in {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.Contains("queued as", await SendNormalMessage());
        var gate = _server.Services.GetRequiredService<ConnectionGate>();
        Assert.Equal(0, await Eventually.Get(() => gate.OpenConnections, open => open == 0));
        var growth = SettledMemory() - baseline;
        output.WriteLine($"memory growth {growth / 1024} KiB");
        Assert.True(growth < 32 * 1024 * 1024, $"memory grew by {growth / 1024 / 1024} MiB over {sent} connections (seed {seed})");
    }

    sealed record Fuzz(bool Tls, bool TlsHandshake, byte[] Bytes);

    static Fuzz Payload(Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                return new Fuzz(false, false, Bytes(random, random.Next(1, 8192)));
            case 1:
                return new Fuzz(false, false, Encoding.Latin1.GetBytes(Lines(random, printableOnly: true)));
            case 2:
                return new Fuzz(false, false, Encoding.Latin1.GetBytes("EHLO fuzz.example.org\r\n" + Lines(random, printableOnly: false)));
            case 3:
                // One endless line.
                return new Fuzz(false, false, Encoding.ASCII.GetBytes("MAIL FROM:<" + new string('a', random.Next(3000, 30000))));
            case 4:
                return new Fuzz(true, false, Bytes(random, random.Next(1, 4096)));
            default:
                return new Fuzz(true, true, Encoding.Latin1.GetBytes("EHLO fuzz\r\n" + Lines(random, printableOnly: false)));
        }
    }

    static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Commands with odd arguments, odd line ends, and message bodies with bare CR, LF and dots.</summary>
    static string Lines(Random random, bool printableOnly)
    {
        var text = new StringBuilder();
        var endings = new[] { "\r\n", "\n", "\r", "\r\r\n", "" };
        for (var i = random.Next(1, 60); i > 0; i--)
        {
            var verb = Verbs[random.Next(Verbs.Length)];
            var argument = random.Next(4) switch
            {
                0 => "",
                1 => $"<{Word(random, printableOnly)}@{Word(random, printableOnly)}>",
                2 => " " + Convert.ToBase64String(Bytes(random, random.Next(1, 40))) + (random.Next(2) == 0 ? "!!" : ""),
                _ => Word(random, printableOnly),
            };
            text.Append(verb).Append(argument).Append(endings[random.Next(endings.Length)]);
            if (verb == "DATA")
                text.Append(Word(random, printableOnly)).Append(endings[random.Next(endings.Length)]).Append(random.Next(2) == 0 ? ".\r\n" : "\n.\n");
        }
        return text.ToString();
    }

    static string Word(Random random, bool printableOnly) =>
        new(Enumerable.Range(0, random.Next(0, 40)).Select(_ => printableOnly ? (char)random.Next(32, 127) : (char)random.Next(0, 256)).ToArray());

    /// <summary>One stranger's connection: say the bytes, stop sending, and read until the server lets go.</summary>
    async Task Throw(Fuzz fuzz)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, fuzz.Tls ? _server.SubmissionsPort : _server.Port, deadline.Token);
            Stream stream = client.GetStream();
            if (fuzz.TlsHandshake)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mail.example.test" }, deadline.Token);
                stream = tls;
            }
            await stream.WriteAsync(fuzz.Bytes, deadline.Token);
            if (stream is SslStream ssl)
                await ssl.ShutdownAsync();
            client.Client.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            while (await stream.ReadAsync(sink, deadline.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The server may hang up at any point; that is its right.
        }
    }

    async Task<string> SendNormalMessage()
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@elsewhere.test"));
        message.To.Add(MailboxAddress.Parse("admin@example.test"));
        message.Subject = "after the storm";
        message.Body = new TextPart("plain") { Text = "Still here.\r\n" };
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", _server.Port, MailKit.Security.SecureSocketOptions.None);
        var reply = await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return reply;
    }

    static long SettledMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
