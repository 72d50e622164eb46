using System.Reflection;
using ActorMta.Edge;
using SmtpServer;
using SmtpServer.Mail;

namespace ActorMta.Benchmarks.Edge;

/// <summary>
/// The edge's helpers are internal to ActorMta (visible to its tests only). Bound once as
/// delegates they run the library's own code at the price of one indirect call; a changed
/// signature fails at setup, not silently.
/// </summary>
static class EdgeInternals
{
    public delegate byte[] ReceivedHeaderFor(ISessionContext context, string hostname, string queueId, IReadOnlyList<string> recipients, DateTimeOffset now);

    public static readonly ReceivedHeaderFor ReceivedHeader = Bind<ReceivedHeaderFor>("ActorMta.Edge.ReceivedHeader", "For");

    public static readonly Func<ISessionContext, string> ClientText = Bind<Func<ISessionContext, string>>("ActorMta.Edge.SessionFacts", "ClientText");

    public static readonly Func<IMailbox?, string> MailboxText = Bind<Func<IMailbox?, string>>("ActorMta.Edge.SessionFacts", "Text");

    public static readonly Action<ISessionContext, string, bool> RememberGreeting = Bind<Action<ISessionContext, string, bool>>("ActorMta.Edge.SessionFacts", "RememberGreeting");

    static T Bind<T>(string type, string method) where T : Delegate =>
        typeof(MessageContent).Assembly.GetType(type, throwOnError: true)!
            .GetMethod(method, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!
            .CreateDelegate<T>();
}
