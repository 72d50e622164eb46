using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace ActorMta.Dns;

/// <summary>One host to try, with the addresses to connect to.</summary>
public sealed record MxHost(string Name, int Preference, IReadOnlyList<IPAddress> Addresses);

/// <summary>Where mail for a domain goes, or why it cannot go anywhere now or ever.</summary>
public abstract record MxRoute
{
    /// <summary>Hosts in the order to try them.</summary>
    public sealed record Hosts(IReadOnlyList<MxHost> List) : MxRoute;

    /// <summary>Never deliverable (NXDOMAIN, null MX): fail at once.</summary>
    public sealed record Permanent(string Dsn, string Text) : MxRoute;

    /// <summary>DNS could not answer now (SERVFAIL, timeout): try again later.</summary>
    public sealed record Temporary(string Dsn, string Text) : MxRoute;
}

/// <summary>
/// RFC 5321 §5.1 routing: MX records by preference, random among equal preference; no MX
/// means the domain's own address (implicit MX); a null MX (RFC 7505) means the domain
/// accepts no mail. Answers are cached for their TTL by DnsClient.
/// </summary>
public sealed class MxResolver(ILookupClient dns, ILogger<MxResolver> logger)
{
    public static ILookupClient CreateClient(IPEndPoint? server, TimeSpan timeout)
    {
        var options = server is null ? new LookupClientOptions() : new LookupClientOptions(server);
        options.UseCache = true;
        options.Timeout = timeout;
        options.Retries = 2;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.UseTcpFallback = true;
        return new LookupClient(options);
    }

    public async Task<MxRoute> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        try
        {
            var mx = await dns.QueryAsync(domain, QueryType.MX, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (Failure(domain, "MX", mx) is { } failure)
                return failure;
            var records = mx.Answers.MxRecords().ToList();
            if (records.Any(r => IsNullMx(r)))
                return new MxRoute.Permanent("5.1.10", $"{domain} does not accept mail (null MX, RFC 7505)");
            if (records.Count == 0)
            {
                // RFC 5321 §5.1: no MX, so the domain itself is the mail host.
                var implicitHost = await HostAsync(domain, 0, mx.Additionals, cancellationToken).ConfigureAwait(false);
                return implicitHost switch
                {
                    MxHost { Addresses.Count: > 0 } host => new MxRoute.Hosts([host]),
                    MxRoute failed => failed,
                    _ => new MxRoute.Permanent("5.1.2", $"Host or domain name not found. Name service error for name={domain} type=A: no MX and no address records"),
                };
            }

            var hosts = new List<MxHost>();
            MxRoute? lastFailure = null;
            foreach (var group in records.GroupBy(r => r.Preference).OrderBy(g => g.Key))
            {
                foreach (var record in group.OrderBy(_ => Random.Shared.Next()))
                {
                    switch (await HostAsync(record.Exchange.Value.TrimEnd('.'), record.Preference, mx.Additionals, cancellationToken).ConfigureAwait(false))
                    {
                        case MxHost { Addresses.Count: > 0 } host:
                            hosts.Add(host);
                            break;
                        case MxRoute failed:
                            lastFailure = failed;
                            break;
                    }
                }
            }
            return hosts.Count > 0
                ? new MxRoute.Hosts(hosts)
                : lastFailure as MxRoute.Temporary ?? (MxRoute)new MxRoute.Temporary("4.4.4", $"no MX host of {domain} has an address");
        }
        catch (DnsResponseException e)
        {
            return new MxRoute.Temporary("4.4.3", $"Host or domain name lookup failed for {domain}: {e.Message}");
        }
    }

    static bool IsNullMx(MxRecord record) => record.Preference == 0 && record.Exchange.Value is "." or "";

    MxRoute? Failure(string name, string type, IDnsQueryResponse response)
    {
        if (!response.HasError)
            return null;
        return response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
            ? new MxRoute.Permanent("5.1.2", $"Host or domain name not found. Name service error for name={name} type={type}: Host not found")
            : new MxRoute.Temporary("4.4.3", $"Host or domain name lookup failed for name={name} type={type}: {response.ErrorMessage}");
    }

    /// <returns>An <see cref="MxHost"/> (possibly without addresses), or an <see cref="MxRoute"/> failure.</returns>
    async Task<object> HostAsync(string name, int preference, IReadOnlyList<DnsResourceRecord> additionals, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(name.Trim('[', ']'), out var literal))
        {
            logger.MxIsAddress(name);
            return new MxHost(name, preference, [literal]);
        }
        var glue = additionals.OfType<AddressRecord>().Where(a => string.Equals(a.DomainName.Value.TrimEnd('.'), name, StringComparison.OrdinalIgnoreCase)).Select(a => a.Address).ToList();
        if (glue.Count > 0)
            return new MxHost(name, preference, glue);

        var addresses = new List<IPAddress>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            var response = await dns.QueryAsync(name, type, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (Failure(name, type.ToString(), response) is { } failure)
                return failure;
            if (response.Answers.CnameRecords().Any())
                logger.MxIsAlias(name);
            addresses.AddRange(response.Answers.AddressRecords().Select(a => a.Address)
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6));
        }
        return new MxHost(name, preference, addresses);
    }
}
