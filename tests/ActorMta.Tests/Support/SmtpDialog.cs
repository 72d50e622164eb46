using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace ActorMta.Tests.Support;

/// <summary>
/// A raw SMTP conversation over loopback, for what a library client will not send:
/// odd addresses, commands out of order, exact bytes. It can speak from another loopback
/// address (127.0.0.2 …) and switch to TLS, accepting the server's test certificate.
/// </summary>
public sealed class SmtpDialog : IAsyncDisposable
{
    readonly TcpClient _client;
    Stream _stream;
    StreamReader _reader;

    SmtpDialog(TcpClient client, Stream stream)
    {
        _client = client;
        _stream = stream;
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    public string Greeting { get; private set; } = "";

    /// <param name="from">The local address to connect from; null: 127.0.0.1.</param>
    /// <param name="implicitTls">TLS from the first byte (the submissions listener).</param>
    public static async Task<SmtpDialog> OpenAsync(int port, IPAddress? from = null, bool implicitTls = false)
    {
        var client = new TcpClient(new IPEndPoint(from ?? IPAddress.Loopback, 0));
        await client.ConnectAsync(IPAddress.Loopback, port);
        Stream stream = client.GetStream();
        if (implicitTls)
            stream = await TlsAsync(stream);
        var dialog = new SmtpDialog(client, stream);
        dialog.Greeting = await dialog.ReadReplyAsync();
        return dialog;
    }

    /// <summary>Sends one command line and returns the whole reply (continuation lines joined by \n).</summary>
    public async Task<string> SendAsync(string line)
    {
        await WriteAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>STARTTLS, then the same conversation over TLS.</summary>
    public async Task<string> StartTlsAsync()
    {
        var reply = await SendAsync("STARTTLS");
        if (reply.StartsWith("220", StringComparison.Ordinal))
        {
            _stream = await TlsAsync(_stream);
            _reader = new StreamReader(_stream, Encoding.ASCII);
        }
        return reply;
    }

    public async Task WriteAsync(string text) => await WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task<string> ReadReplyAsync(TimeSpan? within = null)
    {
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new IOException("connection closed; reply so far: " + string.Join("\n", lines));
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
                return string.Join("\n", lines);
        }
    }

    /// <summary>True when the server has closed the connection (after anything still unread), within the deadline.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        try
        {
            while (await _reader.ReadLineAsync(timeout.Token) is not null)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    static async Task<Stream> TlsAsync(Stream stream)
    {
        var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("mail.example.test");
        return tls;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await WriteAsync("QUIT\r\n");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
        }
        _client.Dispose();
    }
}
