using System.Net;
using ActorMta.Config;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmtpServer;

namespace ActorMta.Edge;

/// <summary>
/// The SMTP listeners (mx, submission, submissions) in one SmtpServer: the library speaks the
/// protocol; the gate, the filter, the policy, the authenticator and the store decide.
/// </summary>
public sealed class SmtpEdge(
    ActorMtaSettings settings,
    ConnectionGate gate,
    RecipientPolicy policy,
    SmtpAuthenticator authenticator,
    HeloPolicy helo,
    QueueingMessageStore store,
    ServerCertificate certificate,
    ILogger<SmtpEdge> logger) : BackgroundService
{
    readonly TaskCompletionSource<IReadOnlyDictionary<string, IPEndPoint>> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with each listener's bound endpoint, by listener name, once all accept connections.</summary>
    public Task<IReadOnlyDictionary<string, IPEndPoint>> Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var smtp = settings.Smtp;
        var builder = new SmtpServerOptionsBuilder()
            .ServerName(settings.Hostname)
            // The greeting names this host and nothing about the software behind it.
            .CustomSmtpGreeting(_ => $"220 {settings.Hostname} ESMTP")
            // SIZE is advertised and a declared SIZE checked at MAIL; the body itself is measured by
            // SmtpInputFilter and QueueingMessageStore, which answer 552 instead of dropping the line.
            .MaxMessageSize(smtp.MaxMessageSize, MaxMessageSizeHandling.Ignore)
            // SmtpInputFilter times commands and answers 421 (the library would say 221); the
            // library's own timer is only a backstop.
            .CommandWaitTimeout(smtp.CommandTimeout * 2)
            // SmtpInputFilter counts every error reply and ends the session at max-errors; the
            // library's own count (of consecutive errors) must never come first.
            .MaxRetryCount(smtp.MaxErrors + 1);
        var listeners = new Dictionary<IEndpointDefinition, EdgeListener>();
        foreach (var listener in smtp.Listeners)
        {
            var definition = new EndpointDefinitionBuilder()
                .Endpoint(listener.Endpoint)
                .IsSecure(listener.Kind == ListenerKind.Submissions)
                .Certificate(certificate)
                .SupportedSslProtocols(ServerCertificate.Protocols)
                .SessionTimeout(smtp.SessionTimeout)
                .Build();
            listeners[definition] = listener;
            builder.Endpoint(definition);
        }

        var factory = new SmtpListenerFactory(listeners, settings, gate, certificate);
        var started = new Dictionary<string, IPEndPoint>();
        factory.Started += (_, bound) =>
        {
            logger.Listening(bound.Endpoint.ToString(), bound.Listener.Name, settings.Hostname);
            lock (started)
            {
                started[bound.Listener.Name] = bound.Endpoint;
                if (started.Count == listeners.Count)
                    _listening.TrySetResult(started);
            }
        };

        var commands = new EdgeCommands(helo);
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(factory);
        services.Add(commands);
        services.Add(policy);
        services.Add(authenticator);
        services.Add(store);

        var server = new SmtpServer.SmtpServer(builder.Build(), services);
        server.SessionCreated += (_, e) => e.Context.CommandExecuting += (_, command) => commands.BeforeExecuting(command.Context, command.Command);
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _listening.TrySetCanceled(CancellationToken.None);
        }
    }
}
