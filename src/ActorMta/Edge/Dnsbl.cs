using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorMta.Config;
using DnsClient;
using Microsoft.Extensions.Logging;

namespace ActorMta.Edge;

/// <summary>DNS block lists (RFC 5782): is the client's address listed in any configured zone?</summary>
public sealed class DnsblChecker
{
    // Lists answer 127.255.255.x for their own errors ("query through a public resolver
    // refused", "rate limited"); those say nothing about the client.
    static readonly IPNetwork ErrorCodes = IPNetwork.Parse("127.255.255.0/24");
    static readonly IPNetwork Listed = IPNetwork.Parse("127.0.0.0/8");

    readonly LookupClient? _dns;
    readonly DnsblSettings _settings;
    readonly ILogger<DnsblChecker> _logger;

    public DnsblChecker(ActorMtaSettings settings, ILogger<DnsblChecker> logger)
    {
        _settings = settings.Smtp.Dnsbl;
        _logger = logger;
        if (_settings.Zones.Count == 0)
            return;
        var options = _settings.Resolver is null ? new LookupClientOptions() : new LookupClientOptions(_settings.Resolver);
        options.Timeout = _settings.Timeout / 2;
        options.Retries = 1;
        options.UseCache = true;
        _dns = new LookupClient(options);
    }

    public bool Enabled => _dns is not null;

    /// <returns>The 554 greeting for a listed client, or null.</returns>
    public async Task<string?> CheckAsync(IPEndPoint client, string listener)
    {
        if (_dns is null)
            return null;
        var reversed = ReversedName(client.Address);
        foreach (var zone in _settings.Zones)
        {
            try
            {
                var name = $"{reversed}.{zone}";
                var answer = await _dns.QueryAsync(name, QueryType.A).WaitAsync(_settings.Timeout).ConfigureAwait(false);
                if (!answer.Answers.ARecords().Any(a => Listed.Contains(a.Address) && !ErrorCodes.Contains(a.Address)))
                    continue;
                var txt = await _dns.QueryAsync(name, QueryType.TXT).WaitAsync(_settings.Timeout).ConfigureAwait(false);
                var reason = string.Join(" ", txt.Answers.TxtRecords().SelectMany(t => t.Text));
                var refusal = $"554 5.7.1 Service unavailable; client [{client.Address}] blocked using {zone}{(reason.Length > 0 ? "; " + SessionFacts.Printable(reason) : "")}";
                _logger.ConnectionRefused(listener, $"[{client.Address}]:{client.Port}", refusal);
                return refusal;
            }
            catch (Exception e) when (e is DnsResponseException or TimeoutException or SocketException)
            {
                // A list that cannot be asked must not stop mail: the client counts as not listed.
                _logger.DnsblLookupFailed(zone, $"[{client.Address}]", e.Message);
            }
        }
        return null;
    }

    /// <summary>RFC 5782 §2.1 (IPv4: octets reversed) and §2.4 (IPv6: nibbles reversed).</summary>
    public static string ReversedName(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return string.Join('.', bytes.Reverse());
        var name = new StringBuilder(64);
        for (var i = bytes.Length - 1; i >= 0; i--)
            name.Append($"{bytes[i] & 0xF:x}.{bytes[i] >> 4:x}.");
        return name.ToString(0, name.Length - 1);
    }
}
