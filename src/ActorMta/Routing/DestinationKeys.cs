using ActorMta.Config;
using ActorMta.Dns;

namespace ActorMta.Routing;

/// <summary>
/// Names the router a recipient domain's mail goes through: the domain itself, the site of
/// its MX hosts (every domain with the same MX set shares one router and so one set of
/// limits), or with a smarthost the relay, which then carries everything.
/// </summary>
public sealed class DestinationKeys(ActorMtaSettings settings, MxResolver resolver)
{
    public async Task<string> ForDomainAsync(string domain, CancellationToken cancellationToken)
    {
        if (settings.Delivery.Smarthost is { } smarthost)
            return Normalize($"[{smarthost.Host}]:{smarthost.Port}");
        var normalized = MailAddress.NormalizeDomain(domain);
        if (settings.Routing.RouteBy == RouteBy.Domain)
            return normalized;
        // DNS answers are cached, so the router's own lookup for the connection costs nothing more.
        var route = await resolver.ResolveAsync(normalized, cancellationToken).ConfigureAwait(false);
        return route is MxRoute.Hosts hosts ? Normalize(string.Join(",", hosts.List.Select(h => h.Name))) : normalized;
    }

    /// <summary>
    /// One spelling per destination, for routers and configuration keys alike: a domain in
    /// lower-case A-label form; a site as its sorted, distinct host names joined by commas;
    /// a smarthost as "[host]:port" in lower case.
    /// </summary>
    public static string Normalize(string key)
    {
        var trimmed = key.Trim();
        if (trimmed.StartsWith('['))
            return trimmed.ToLowerInvariant();
        var hosts = trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(MailAddress.NormalizeDomain)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        return string.Join(",", hosts);
    }
}
