using System.Net;
using ActorMta.Config;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;

namespace ActorMta.Edge;

/// <summary>The SMTP listener: SmtpServer speaks the protocol, the policy and the store decide.</summary>
public sealed class SmtpEdge(
    ActorMtaSettings settings,
    RecipientPolicy policy,
    QueueingMessageStore store,
    ILogger<SmtpEdge> logger) : BackgroundService
{
    readonly TaskCompletionSource<IPEndPoint> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the bound endpoint once the listener accepts connections.</summary>
    public Task<IPEndPoint> Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var smtp = settings.Smtp;
        var options = new SmtpServerOptionsBuilder()
            .ServerName(settings.Hostname)
            // The greeting names this host and nothing about the software behind it.
            .CustomSmtpGreeting(_ => $"220 {settings.Hostname} ESMTP")
            .Endpoint(endpoint => endpoint
                .Endpoint(new IPEndPoint(smtp.Address, smtp.Port))
                .SessionTimeout(smtp.CommandTimeout))
            .MaxMessageSize(smtp.MaxMessageSize, MaxMessageSizeHandling.Strict)
            .CommandWaitTimeout(smtp.CommandTimeout)
            // Every refused RCPT counts as a "retry" in SmtpServer; a message to many unknown
            // recipients must not cost the client its connection.
            .MaxRetryCount(smtp.MaxRecipients + 10)
            .Build();

        var listeners = new SmtpListenerFactory(settings.Recipients.PrimaryDomain);
        listeners.Started += (_, endpoint) =>
        {
            logger.Listening(endpoint.ToString(), settings.Hostname);
            _listening.TrySetResult(endpoint);
        };

        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(policy);
        services.Add(store);

        var server = new SmtpServer.SmtpServer(options, services);
        server.SessionCreated += (_, e) => e.Context.CommandExecuting += (_, command) =>
        {
            switch (command.Command)
            {
                case EhloCommand ehlo:
                    command.Context.RememberGreeting(ehlo.DomainOrAddress, extended: true);
                    break;
                case HeloCommand helo:
                    command.Context.RememberGreeting(helo.DomainOrAddress, extended: false);
                    break;
            }
        };
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
