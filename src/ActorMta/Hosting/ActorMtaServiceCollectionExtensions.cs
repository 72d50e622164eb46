using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Dns;
using ActorMta.Edge;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Queue;
using ActorMta.Routing;
using ActorMta.Users;
using LinqToDB;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ActorMta.Hosting;

public static class ActorMtaServiceCollectionExtensions
{
    /// <summary>
    /// One complete node: the SMTP edge (listeners, TLS, AUTH, inbound defences), the message shard region on a persistent journal,
    /// the destination routers' shard region, the queue scheduler and local delivery.
    /// </summary>
    /// <param name="config">The merged configuration (<see cref="ActorMtaConfiguration.Load"/>); its akka section configures the actor system.</param>
    public static IServiceCollection AddActorMta(this IServiceCollection services, ActorMtaSettings settings, Akka.Configuration.Config config)
    {
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ =>
        {
            var store = new QueueStore(settings.QueueDatabasePath);
            store.Initialize();
            return store;
        });
        services.AddSingleton(new MaildirDelivery(settings.MailRoot, settings.Hostname));
        services.AddSingleton(_ => MxResolver.CreateClient(settings.Delivery.DnsServer, settings.Delivery.DnsTimeout));
        services.AddSingleton<MxResolver>();
        services.AddSingleton<SmtpOutbound>();
        services.AddSingleton<DestinationKeys>();
        services.AddSingleton(new LmtpDelivery(settings.Hostname, settings.Delivery.CommandTimeout));
        services.AddSingleton<MessageInjector>();
        services.AddSingleton(new DsnBuilder(settings.Hostname));
        services.AddSingleton(new QueuePolicy(settings.Delivery, Random.Shared.NextDouble));
        services.AddSingleton(new UserStore(settings.UsersFilePath));
        services.AddSingleton(provider => new AuthThrottle(settings.Smtp.Auth, provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SmtpAuthenticator>();
        services.AddSingleton<SenderOwnership>();
        services.AddSingleton<DnsblChecker>();
        services.AddSingleton<ConnectionGate>();
        services.AddSingleton<HeloPolicy>();
        services.AddSingleton<ServerCertificate>();
        services.AddSingleton<RecipientPolicy>();
        services.AddSingleton<QueueingMessageStore>();

        services.AddAkka("actormta", (builder, provider) =>
        {
            var loggers = provider.GetRequiredService<ILoggerFactory>();
            var clock = provider.GetRequiredService<TimeProvider>();
            var store = provider.GetRequiredService<QueueStore>();
            var messageContext = new MessageActorContext(
                settings,
                store,
                provider.GetRequiredService<MaildirDelivery>(),
                provider.GetRequiredService<DestinationKeys>(),
                provider.GetRequiredService<LmtpDelivery>(),
                provider.GetRequiredService<DsnBuilder>(),
                provider.GetRequiredService<MessageInjector>(),
                provider.GetRequiredService<QueuePolicy>(),
                clock,
                loggers.CreateLogger("ActorMta.Queue"));
            var routerContext = new DomainRouterContext(
                settings.Routing,
                provider.GetRequiredService<SmtpOutbound>(),
                store,
                clock,
                loggers.CreateLogger("ActorMta.Routing"));

            SqliteFiles.EnableWriteAheadLog(settings.JournalDatabasePath);
            builder
                .AddHocon(config, HoconAddMode.Prepend)
                .ConfigureLoggers(logging =>
                {
                    logging.ClearLoggers();
                    logging.AddLoggerFactory();
                })
                .WithRemoting(settings.Cluster.Hostname, settings.Cluster.Port)
                .WithClustering(new ClusterOptions
                {
                    SeedNodes = settings.Cluster.SeedNodes.ToArray(),
                    Roles = ["edge", "worker"],
                })
                .WithSqlPersistence(
                    connectionString: $"Data Source={settings.JournalDatabasePath}",
                    providerName: ProviderName.SQLiteMS,
                    autoInitialize: true,
                    databaseMapping: DatabaseMapping.Sqlite)
                .WithCustomSerializer("actormta", [typeof(IProtocolMessage)], system => new ProtocolSerializer(system))
                .WithShardRegion<MessageRegion>(
                    "message",
                    queueId => MessageActor.Props(queueId, messageContext),
                    new MessageShardExtractor(settings.Queue.Shards),
                    new ShardOptions
                    {
                        // The queue index wakes messages, so sharding remembers nothing; its
                        // coordinator state lives in memory and is rebuilt when a cluster restarts.
                        RememberEntities = false,
                        StateStoreMode = StateStoreMode.DData,
                        PassivateIdleEntityAfter = TimeSpan.FromMinutes(2),
                        Role = "worker",
                    })
                .WithShardRegion<RouteRegion>(
                    "route",
                    (system, _) => destination => DomainRouter.Props(destination, routerContext, ClusterSharding.Get(system).ShardRegion("message")),
                    new RouteShardExtractor(),
                    new ShardOptions
                    {
                        RememberEntities = false,
                        StateStoreMode = StateStoreMode.DData,
                        // A router stops itself once it has nothing queued, open or suspended.
                        ShouldPassivateIdleEntities = false,
                        Role = "worker",
                    })
                .WithActors((system, registry) =>
                {
                    var scheduler = system.ActorOf(
                        QueueScheduler.Props(store, registry.Get<MessageRegion>(), settings.Queue, clock, loggers.CreateLogger("ActorMta.Queue.Scheduler")),
                        "queue-scheduler");
                    registry.Register<QueueScheduler>(scheduler);
                });

            if (settings.Cluster.SeedNodes.Count == 0)
            {
                // No seeds: this node is the whole cluster.
                builder.AddStartup((system, _) =>
                {
                    var cluster = Cluster.Get(system);
                    cluster.Join(cluster.SelfAddress);
                });
            }
        });

        services.AddSingleton<SmtpEdge>();
        services.AddHostedService(provider => provider.GetRequiredService<SmtpEdge>());
        return services;
    }
}
