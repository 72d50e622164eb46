using System.Net;
using ActorMta.Queue;

namespace ActorMta.Config;

/// <summary>How mail leaves this server: DNS, SMTP sessions, retries and notices.</summary>
public sealed record DeliverySettings
{
    /// <summary>The DNS server for MX lookups; null uses the system's resolvers.</summary>
    public IPEndPoint? DnsServer { get; init; }
    public TimeSpan DnsTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public SmarthostSettings? Smarthost { get; init; }
    public bool DelayNoticeOnFirstFailure { get; init; } = true;

    /// <summary>A second delay notice when a message has waited this long; null sends none.</summary>
    public TimeSpan? DelayNoticeAfter { get; init; } = TimeSpan.FromHours(12);

    public required DestinationSettings Default { get; init; }
    public IReadOnlyDictionary<string, DestinationSettings> Destinations { get; init; } = new Dictionary<string, DestinationSettings>();

    /// <summary>The settings for a recipient domain: its own entry, else the default.</summary>
    public DestinationSettings For(string domain) =>
        Destinations.TryGetValue(MailAddress.NormalizeDomain(domain), out var destination) ? destination : Default;
}

/// <param name="Port">The SMTP port of the destination's MX hosts (25 on the Internet).</param>
/// <param name="RequireTls">Refuse to deliver without STARTTLS and a valid certificate.</param>
public sealed record DestinationSettings(RetrySchedule Retry, int Port, bool RequireTls);

/// <summary>Every remote message goes through this relay (sites on dynamic addresses, per the operator's guide).</summary>
public sealed record SmarthostSettings(string Host, int Port, string? Username, string? Password, bool RequireTls);
