using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.ComponentModel;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ActorMta.Tests.Support;

/// <summary>What a receiver got: the envelope and the message as transmitted.</summary>
public sealed record Delivered(string Sender, IReadOnlyList<string> Recipients, byte[] Content, string? User)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Content);
}

/// <summary>
/// A real SMTP server on a loopback address that answers what the test scripts: a reply per
/// recipient, a reply at the end of DATA, a 4xx greeting. It records what it accepted.
/// </summary>
public sealed class ScriptedReceiver : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<string, int> _asked = new(StringComparer.OrdinalIgnoreCase);
    Task _running = Task.CompletedTask;
    int _dataCount;

    ScriptedReceiver(IPEndPoint endpoint)
    {
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }
    public ConcurrentQueue<Delivered> Messages { get; } = new();

    /// <summary>Replies to RCPT by address; unlisted recipients get 250. The function is given how often the address was asked before.</summary>
    public ConcurrentDictionary<string, Func<int, SmtpResponse?>> RecipientReplies { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The reply at the end of DATA, given how many messages came before; null answers 250.</summary>
    public Func<int, SmtpResponse?> DataReply { get; set; } = _ => null;

    /// <summary>Set to a full greeting line ("421 busy") to turn clients away.</summary>
    public string? Greeting { get; set; }

    /// <param name="credentials">Non-null: AUTH is offered without TLS and required; only this user and password pass.</param>
    public static async Task<ScriptedReceiver> StartAsync(IPAddress address, int port, (string User, string Password)? credentials = null)
    {
        var receiver = new ScriptedReceiver(new IPEndPoint(address, port));
        var options = new SmtpServerOptionsBuilder()
            .ServerName("receiver.test")
            .Endpoint(e => e.Endpoint(receiver.Endpoint).AllowUnsecureAuthentication(credentials is not null).AuthenticationRequired(credentials is not null))
            .CustomSmtpGreeting(_ => receiver.Greeting ?? "220 receiver.test ESMTP")
            .MaxRetryCount(1000)
            .Build();
        var started = new TaskCompletionSource();
        var listeners = new SmtpServer.Net.EndpointListenerFactory();
        listeners.EndpointStarted += (_, _) => started.TrySetResult();
        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new Filter(receiver));
        services.Add(new Store(receiver));
        if (credentials is { } c)
            services.Add(new DelegatingUserAuthenticator((user, password) => user == c.User && password == c.Password));
        receiver._running = new SmtpServer.SmtpServer(options, services).StartAsync(receiver._stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }
        _stop.Dispose();
    }

    sealed class Filter(ScriptedReceiver receiver) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            var address = to.AsAddress();
            var asked = receiver._asked.AddOrUpdate(address, 0, (_, n) => n + 1);
            if (receiver.RecipientReplies.TryGetValue(address, out var reply) && reply(asked) is { } response)
                throw new SmtpResponseException(response);
            return Task.FromResult(true);
        }
    }

    sealed class Store(ScriptedReceiver receiver) : IMessageStore
    {
        public Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var count = Interlocked.Increment(ref receiver._dataCount) - 1;
            if (receiver.DataReply(count) is { } reply)
                return Task.FromResult(reply);
            var from = string.IsNullOrEmpty(transaction.From?.User) ? "" : transaction.From.AsAddress();
            var user = context.Authentication.IsAuthenticated ? context.Authentication.User : null;
            receiver.Messages.Enqueue(new Delivered(from, [.. transaction.To.Select(t => t.AsAddress())], buffer.ToArray(), user));
            return Task.FromResult(new SmtpResponse(SmtpReplyCode.Ok, "2.0.0 Ok: queued"));
        }
    }
}
