using ActorMta.Config;
using SmtpServer;

namespace ActorMta.Edge;

/// <summary>
/// The operator's guide's second rule against open relays: send to the Internet only what
/// came from our own network (the trusted networks) or from an authenticated user.
/// </summary>
static class RelayPermission
{
    public static bool MayRelay(ISessionContext context, SmtpSettings smtp)
    {
        if (context.Authentication.IsAuthenticated)
            return true;
        if (context.Client() is not { } client)
            return false;
        var address = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        return smtp.TrustedNetworks.Any(network => network.Contains(address));
    }
}
