using System.Net;
using ActorMta.Config;
using Microsoft.Extensions.Logging;

namespace ActorMta.Edge;

/// <summary>
/// Admission at connect, decided before the greeting: the connection limits (in total and per
/// client address) and, for untrusted clients of the MX listener, the DNS block lists.
/// </summary>
public sealed class ConnectionGate(ActorMtaSettings settings, DnsblChecker dnsbl, ILogger<ConnectionGate> logger)
{
    readonly Lock _lock = new();
    readonly Dictionary<IPAddress, int> _perClient = [];
    int _total;

    /// <summary>Connections counted now, refused ones included until they close.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_lock)
                return _total;
        }
    }

    /// <summary>Counts the connection until the returned state is disposed.</summary>
    internal ConnectionState Open(IPEndPoint client, EdgeListener listener, bool trusted)
    {
        int total, fromClient;
        lock (_lock)
        {
            total = ++_total;
            fromClient = _perClient[client.Address] = _perClient.GetValueOrDefault(client.Address) + 1;
        }
        var smtp = settings.Smtp;
        var refusal =
            total > smtp.MaxConnections ? $"421 4.3.2 {settings.Hostname} Error: too many connections, try again later"
            : !trusted && fromClient > smtp.MaxConnectionsPerClient ? $"421 4.7.0 {settings.Hostname} Error: too many connections from [{client.Address}]"
            : null;
        Task<string?> admission;
        if (refusal is not null)
        {
            logger.ConnectionRefused(listener.Name, $"[{client.Address}]:{client.Port}", refusal);
            admission = Task.FromResult<string?>(refusal);
        }
        else if (listener.Kind == ListenerKind.Mx && !trusted && dnsbl.Enabled)
        {
            admission = dnsbl.CheckAsync(client, listener.Name);
        }
        else
        {
            admission = Task.FromResult<string?>(null);
        }
        var clientText = $"[{client.Address}]:{client.Port}";
        return new ConnectionState(admission, () => Close(client.Address), reason => logger.Disconnected(clientText, listener.Name, reason));
    }

    void Close(IPAddress client)
    {
        lock (_lock)
        {
            _total--;
            if (--_perClient[client] == 0)
                _perClient.Remove(client);
        }
    }
}

/// <summary>
/// What the filters of one connection share, across STARTTLS: the admission verdict that
/// replaces the greeting, the error count, and whether the connection is on its way out.
/// </summary>
sealed class ConnectionState(Task<string?> admission, Action close, Action<string> report) : IDisposable
{
    int _closed;

    /// <summary>A reply that replaces the greeting (421 or 554), or null to greet normally.</summary>
    public Task<string?> Admission => admission;

    public bool GreetingSent { get; set; }

    /// <summary>Greeted with 554: only QUIT is answered with anything but 503 (RFC 5321 §3.1).</summary>
    public bool Refused { get; set; }

    /// <summary>A 421 was sent: no further command is read and no further reply written.</summary>
    public bool Closing { get; set; }

    public int Errors { get; set; }

    /// <summary>The argument of the last HELO/EHLO as the client sent it (SmtpServer strips the brackets of an address literal).</summary>
    public string HeloArgument { get; set; } = "";

    /// <summary>Logs why the server is ending the connection.</summary>
    public void Report(string reason) => report(reason);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
            close();
    }
}
