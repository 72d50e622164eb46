using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using ActorMta.Config;
using ActorMta.Edge;
using ActorMta.Hosting;
using ActorMta.Protocol;
using ActorMta.Routing;
using ActorMta.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ActorMta.Tests.Support;

/// <summary>
/// A whole ActorMta node in the test process: real SMTP listener on a loopback port, real
/// actor system, real SQLite files in a temporary data directory.
/// </summary>
public sealed class MtaServer : IAsyncDisposable
{
    readonly IHost _host;
    readonly TempDirectory? _ownDirectory;

    MtaServer(IHost host, ActorMtaSettings settings, IReadOnlyDictionary<string, IPEndPoint> listening, TempDirectory? ownDirectory)
    {
        _host = host;
        Settings = settings;
        Listening = listening;
        _ownDirectory = ownDirectory;
    }

    public ActorMtaSettings Settings { get; }
    /// <summary>Bound endpoints by listener name (mx, submission, submissions).</summary>
    public IReadOnlyDictionary<string, IPEndPoint> Listening { get; }
    public int Port => Listening["mx"].Port;
    public int SubmissionPort => Listening["submission"].Port;
    public int SubmissionsPort => Listening["submissions"].Port;
    public string DataDirectory => Settings.DataDirectory;
    public IServiceProvider Services => _host.Services;
    public ActorSystem System => Services.GetRequiredService<ActorSystem>();

    /// <param name="overlay">HOCON applied over the defaults; data-dir and the listeners' ports are filled in.</param>
    public static async Task<MtaServer> StartAsync(string overlay = "", string? dataDirectory = null)
    {
        var own = dataDirectory is null ? new TempDirectory() : null;
        var data = dataDirectory ?? own!.Path;
        var config = ActorMtaConfiguration.FromText($$"""
            actormta {
              data-dir = "{{data}}"
              smtp.port = {{FreePort()}}
              smtp.submission.port = {{FreePort()}}
              smtp.submissions.port = {{FreePort()}}
              queue.poll-interval = 200ms
            }
            akka.loglevel = WARNING
            {{overlay}}
            """);
        var settings = ActorMtaSettings.From(config);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("ACTORMTA_TEST_LOG") is null ? LogLevel.Warning : LogLevel.Information);
        builder.Services.AddActorMta(settings, config);
        var host = builder.Build();
        await host.StartAsync();
        var listening = await host.Services.GetRequiredService<SmtpEdge>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        return new MtaServer(host, settings, listening, own);
    }

    /// <summary>Asks a destination's router through the registry, as operator tools do until the management API exists.</summary>
    public Task<RouteState> AskRouterAsync(IRouteCommand query) =>
        Services.GetRequiredService<IRequiredActor<RouteRegion>>().ActorRef.Ask<RouteState>(query, TimeSpan.FromSeconds(10));

    /// <summary>Writes users into a data directory before a server starts on it (a cheap hash: tests need no slow one).</summary>
    public static void WriteUsers(string dataDirectory, params (string Name, string Password, string[] Senders)[] users) =>
        new UserStore(Path.Combine(dataDirectory, "users.json"))
            .Save([.. users.Select(u => new User(UserStore.NormalizeName(u.Name), PasswordHash.Create(u.Password, iterations: 1000), u.Senders))]);

    public string MaildirNew(string mailbox)
    {
        var (local, domain) = MailAddress.Split(mailbox);
        return Path.Combine(DataDirectory, "mail", domain, local, "new");
    }

    public IReadOnlyList<string> DeliveredFiles(string mailbox)
    {
        var path = MaildirNew(mailbox);
        return Directory.Exists(path) ? Directory.GetFiles(path) : [];
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(20));
        _host.Dispose();
        _ownDirectory?.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Polls a condition with a deadline: waits on the system, never a fixed sleep.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var value = await probe();
            if (done(value) || DateTime.UtcNow > deadline)
                return value;
            await Task.Delay(50);
        }
    }

    public static Task<T> Get<T>(Func<T> probe, Func<T, bool> done, TimeSpan? within = null) =>
        GetAsync(() => Task.FromResult(probe()), done, within);
}
