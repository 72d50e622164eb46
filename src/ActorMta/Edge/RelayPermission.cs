using SmtpServer;

namespace ActorMta.Edge;

/// <summary>
/// The one rule that opens relaying to other domains: the client is in a trusted network, or
/// it has authenticated (which only the submission listeners allow). Nothing in an address
/// can grant it; <see cref="Config.RecipientDirectory"/> never interprets '%', '!' or quotes.
/// </summary>
static class RelayPermission
{
    public static bool Allows(ISessionContext context) => context.IsTrusted() || context.Authentication.IsAuthenticated;
}
