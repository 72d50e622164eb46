using System.Net;
using Akka.Configuration.Hocon;
using ActorMta.Queue;
using ActorMta.Routing;

namespace ActorMta.Config;

/// <summary>The typed, validated view of the <c>actormta</c> configuration section.</summary>
public sealed record ActorMtaSettings
{
    public required string Hostname { get; init; }
    public required string DataDirectory { get; init; }
    public required RecipientDirectory Recipients { get; init; }
    public required SmtpSettings Smtp { get; init; }
    public required QueueSettings Queue { get; init; }
    public required ClusterSettings Cluster { get; init; }
    public required DeliverySettings Delivery { get; init; }
    public required RoutingSettings Routing { get; init; }

    public string QueueDatabasePath => Path.Combine(DataDirectory, "queue.db");
    public string JournalDatabasePath => Path.Combine(DataDirectory, "journal.db");
    public string MailRoot => Path.Combine(DataDirectory, "mail");
    public string UsersFilePath => Path.Combine(DataDirectory, "users.json");

    /// <exception cref="SettingsException">The configuration is one the server must not run with.</exception>
    public static ActorMtaSettings From(Akka.Configuration.Config config)
    {
        try
        {
            return Read(config);
        }
        catch (Exception e) when (e is not SettingsException)
        {
            // A value of the wrong kind ("hold = maybe", "command-timeout = soon", a null).
            throw new SettingsException($"a configuration value is invalid: {e.Message}");
        }
    }

    static ActorMtaSettings Read(Akka.Configuration.Config config)
    {
        var mta = config.GetConfig("actormta") ?? throw new SettingsException("the configuration has no actormta section");
        var hostname = ValidateHostname(mta.GetString("hostname", ""));
        var smtp = mta.GetConfig("smtp");
        var queue = mta.GetConfig("queue");
        var cluster = mta.GetConfig("cluster");
        var delivery = ReadDelivery(mta.GetConfig("delivery"), queue);
        return new ActorMtaSettings
        {
            Hostname = hostname,
            DataDirectory = Path.GetFullPath(mta.GetString("data-dir", "data")),
            Recipients = ReadDirectory(mta),
            Smtp = SmtpSettings.From(smtp),
            Queue = new QueueSettings
            {
                Hold = queue.GetBoolean("hold", false),
                PollInterval = queue.GetTimeSpan("poll-interval", TimeSpan.FromSeconds(5)),
                ClaimLease = queue.GetTimeSpan("claim-lease", TimeSpan.FromMinutes(2)),
                Shards = queue.GetInt("shards", 100),
            },
            Cluster = new ClusterSettings
            {
                Hostname = cluster.GetString("hostname", "127.0.0.1"),
                Port = cluster.GetInt("port", 0),
                SeedNodes = [.. cluster.GetStringList("seed-nodes") ?? []],
            },
            Delivery = delivery,
            Routing = ReadRouting(mta.GetConfig("routing"), delivery),
        };
    }

    static RoutingSettings ReadRouting(Akka.Configuration.Config? routing, DeliverySettings delivery)
    {
        routing ??= Akka.Configuration.Config.Empty;
        var routeBy = routing.GetString("route-by", "domain") switch
        {
            "domain" => RouteBy.Domain,
            "mx-site" => RouteBy.MxSite,
            var other => throw new SettingsException($"actormta.routing.route-by \"{other}\" is neither domain nor mx-site"),
        };
        var defaults = ReadLimits(routing, null, "actormta.routing", delivery);
        var destinations = new Dictionary<string, RouteLimits>(StringComparer.Ordinal);
        if (routing.GetValue("destinations") is { } value && value.IsObject())
        {
            foreach (var (name, body) in value.GetObject().Items)
                destinations[DestinationKeys.Normalize(name)] = ReadLimits(body.ToConfig(), defaults, $"actormta.routing.destinations.\"{name}\"", delivery);
        }
        var queueTimeout = routing.GetTimeSpan("queue-timeout", TimeSpan.FromMinutes(10));
        if (queueTimeout <= TimeSpan.Zero)
            throw new SettingsException("actormta.routing.queue-timeout must be positive");
        return new RoutingSettings { RouteBy = routeBy, QueueTimeout = queueTimeout, Default = defaults, Destinations = destinations };
    }

    /// <param name="inherited">The defaults an override falls back to; null for the defaults themselves.</param>
    static RouteLimits ReadLimits(Akka.Configuration.Config c, RouteLimits? inherited, string key, DeliverySettings delivery)
    {
        var maxConnections = c.GetInt("max-connections", inherited?.MaxConnections ?? 20);
        var limits = new RouteLimits(
            maxConnections,
            Math.Min(c.GetInt("initial-connections", inherited?.InitialConnections ?? 5), maxConnections),
            c.GetInt("max-messages-per-connection", inherited?.MaxMessagesPerConnection ?? 100),
            c.GetInt("max-recipients-per-transaction", inherited?.MaxRecipientsPerTransaction ?? 100),
            c.GetInt("max-messages-per-minute", inherited?.MaxMessagesPerMinute ?? 0),
            c.GetInt("max-messages-per-hour", inherited?.MaxMessagesPerHour ?? 0),
            c.GetTimeSpan("connect-timeout", inherited?.ConnectTimeout ?? delivery.ConnectTimeout),
            c.GetTimeSpan("command-timeout", inherited?.CommandTimeout ?? delivery.CommandTimeout),
            c.GetTimeSpan("idle-timeout", inherited?.IdleTimeout ?? TimeSpan.FromSeconds(5)),
            c.GetTimeSpan("failure-pause", inherited?.FailurePause ?? TimeSpan.FromSeconds(10)),
            c.GetInt("suspend-after-failures", inherited?.SuspendAfterFailures ?? 5),
            c.GetTimeSpan("suspend-for", inherited?.SuspendFor ?? TimeSpan.FromMinutes(5)));
        if (limits.MaxConnections < 1 || limits.InitialConnections < 1 || limits.MaxMessagesPerConnection < 1 || limits.MaxRecipientsPerTransaction < 1)
            throw new SettingsException($"{key}: max-connections, initial-connections, max-messages-per-connection and max-recipients-per-transaction must be at least 1");
        if (limits.MaxMessagesPerMinute < 0 || limits.MaxMessagesPerHour < 0 || limits.SuspendAfterFailures < 0)
            throw new SettingsException($"{key}: max-messages-per-minute, max-messages-per-hour and suspend-after-failures must not be negative (0 turns them off)");
        if (limits.ConnectTimeout <= TimeSpan.Zero || limits.CommandTimeout <= TimeSpan.Zero || limits.IdleTimeout < TimeSpan.Zero
            || limits.FailurePause < TimeSpan.Zero || limits.SuspendFor <= TimeSpan.Zero)
        {
            throw new SettingsException($"{key}: connect-timeout, command-timeout and suspend-for must be positive, idle-timeout and failure-pause not negative");
        }
        return limits;
    }

    static DeliverySettings ReadDelivery(Akka.Configuration.Config delivery, Akka.Configuration.Config queue)
    {
        var defaultRetry = new RetrySchedule(
            queue.GetTimeSpan("first-retry", TimeSpan.FromMinutes(5)),
            queue.GetDouble("backoff-factor", 2.0),
            queue.GetTimeSpan("max-retry-interval", TimeSpan.FromHours(4)),
            queue.GetDouble("retry-jitter", 0.15),
            queue.GetTimeSpan("max-age", TimeSpan.FromDays(5)));
        Validate(defaultRetry, "actormta.queue");
        var defaults = new DestinationSettings(defaultRetry, Port(delivery.GetInt("port", 25), "actormta.delivery.port"), delivery.GetBoolean("require-tls", false));

        var destinations = new Dictionary<string, DestinationSettings>(StringComparer.Ordinal);
        if (delivery.GetValue("destinations") is { } value && value.IsObject())
        {
            foreach (var (name, body) in value.GetObject().Items)
            {
                var d = body.ToConfig();
                var retry = new RetrySchedule(
                    d.GetTimeSpan("first-retry", defaultRetry.FirstRetry),
                    d.GetDouble("backoff-factor", defaultRetry.BackoffFactor),
                    d.GetTimeSpan("max-retry-interval", defaultRetry.MaxInterval),
                    d.GetDouble("retry-jitter", defaultRetry.Jitter),
                    d.GetTimeSpan("max-age", defaultRetry.MaxAge));
                Validate(retry, $"actormta.delivery.destinations.\"{name}\"");
                destinations[MailAddress.NormalizeDomain(name)] = new DestinationSettings(retry, Port(d.GetInt("port", defaults.Port), $"actormta.delivery.destinations.\"{name}\".port"), d.GetBoolean("require-tls", defaults.RequireTls));
            }
        }

        var smarthost = delivery.GetConfig("smarthost");
        var smarthostHost = smarthost?.GetString("host", "") ?? "";
        var dnsServer = delivery.GetString("dns-server", "");
        var lateNotice = delivery.GetTimeSpan("delay-notice.after", TimeSpan.FromHours(12));
        return new DeliverySettings
        {
            DnsServer = dnsServer.Length == 0 ? null : ParseEndpoint(dnsServer, 53, "actormta.delivery.dns-server"),
            DnsTimeout = delivery.GetTimeSpan("dns-timeout", TimeSpan.FromSeconds(5)),
            ConnectTimeout = delivery.GetTimeSpan("connect-timeout", TimeSpan.FromSeconds(30)),
            CommandTimeout = delivery.GetTimeSpan("command-timeout", TimeSpan.FromMinutes(5)),
            Smarthost = smarthostHost.Length == 0
                ? null
                : new SmarthostSettings(
                    smarthostHost,
                    smarthost!.GetInt("port", 587),
                    NullIfEmpty(smarthost.GetString("username", "")),
                    NullIfEmpty(smarthost.GetString("password", "")),
                    smarthost.GetBoolean("require-tls", true)),
            DelayNoticeOnFirstFailure = delivery.GetBoolean("delay-notice.on-first-failure", true),
            DelayNoticeAfter = lateNotice > TimeSpan.Zero ? lateNotice : null,
            Default = defaults,
            Destinations = destinations,
        };
    }

    /// <summary>A schedule that could retry sooner than its first interval, or never, is refused.</summary>
    static void Validate(RetrySchedule retry, string key)
    {
        if (retry.FirstRetry <= TimeSpan.Zero || retry.BackoffFactor < 1 || retry.MaxInterval < retry.FirstRetry
            || retry.Jitter is < 0 or >= 1 || retry.MaxAge <= TimeSpan.Zero)
        {
            throw new SettingsException(
                $"{key}: first-retry and max-age must be positive, backoff-factor at least 1, max-retry-interval at least first-retry, retry-jitter in [0, 1)");
        }
    }

    internal static int Port(int port, string key) =>
        port is >= 0 and <= 65535 ? port : throw new SettingsException($"{key} {port} is not a TCP port");

    static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    static IPEndPoint ParseEndpoint(string text, int defaultPort, string key)
    {
        if (IPAddress.TryParse(text, out var address))
            return new IPEndPoint(address, defaultPort);
        return IPEndPoint.TryParse(text, out var endpoint) ? endpoint : throw new SettingsException($"{key} \"{text}\" is not an address or address:port");
    }

    /// <summary>
    /// The name other servers see in the greeting and in Received headers. Receivers
    /// distrust a bare name or an address (the operator's guide lists both), so neither starts.
    /// </summary>
    public static string ValidateHostname(string hostname)
    {
        var name = hostname.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length == 0)
            throw new SettingsException("actormta.hostname is empty: set it to this server's fully qualified name, e.g. mail.example.org");
        if (IPAddress.TryParse(name.Trim('[', ']'), out _))
            throw new SettingsException($"actormta.hostname is the IP address {hostname}: set it to this server's fully qualified name (an A record pointing at that address)");
        if (!name.Contains('.', StringComparison.Ordinal))
            throw new SettingsException($"actormta.hostname \"{hostname}\" is not fully qualified: use the full name, e.g. {name}.example.org");
        if (!MailAddress.IsValidDomain(name))
            throw new SettingsException($"actormta.hostname \"{hostname}\" is not a valid host name (RFC 1123: letters, digits and hyphens between dots)");
        return name;
    }

    static RecipientDirectory ReadDirectory(Akka.Configuration.Config mta)
    {
        var domains = new List<LocalDomain>();
        var definitions = mta.GetValue("domains")?.GetObject()?.Items ?? new Dictionary<string, HoconValue>();
        foreach (var name in mta.GetStringList("local-domains") ?? [])
        {
            var domain = MailAddress.NormalizeDomain(name);
            if (!MailAddress.IsValidDomain(domain))
                throw new SettingsException($"local domain \"{name}\" is not a valid domain name");
            var definition = definitions.FirstOrDefault(d => string.Equals(MailAddress.NormalizeDomain(d.Key), domain, StringComparison.Ordinal)).Value;
            if (definition is null || !definition.IsObject())
                throw new SettingsException($"local domain {domain} has no entry under actormta.domains.\"{domain}\" (mailboxes and aliases)");
            var body = definition.GetObject().Items;
            var mailboxes = body.TryGetValue("mailboxes", out var m) ? Strings(m) : [];
            var aliases = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
            if (body.TryGetValue("aliases", out var a) && a.IsObject())
            {
                foreach (var (alias, targets) in a.GetObject().Items)
                    aliases[alias.ToLowerInvariant()] = Strings(targets);
            }
            if (domains.Any(d => d.Name == domain))
                continue;
            var lmtp = body.TryGetValue("lmtp", out var l) && l.GetString() is { Length: > 0 } target ? target : null;
            domains.Add(new LocalDomain(domain, mailboxes.Select(x => x.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal), aliases, lmtp));
        }
        if (domains.Count == 0)
            throw new SettingsException("actormta.local-domains is empty: name at least one domain this server receives mail for");
        var directory = new RecipientDirectory(domains, mta.GetString("recipient-delimiter", "+"));
        directory.Validate();
        return directory;
    }

    static IReadOnlyList<string> Strings(HoconValue value) =>
        value.IsArray() ? value.GetArray().Select(v => v.GetString()).ToList() : [value.GetString()];
}

public sealed record SmtpSettings
{
    /// <summary>The enabled listeners; there is at least one.</summary>
    public required IReadOnlyList<EdgeListener> Listeners { get; init; }
    public required IReadOnlyList<IPNetwork> TrustedNetworks { get; init; }
    public required int MaxMessageSize { get; init; }
    public required int MaxRecipients { get; init; }
    public required int MaxCommandLine { get; init; }
    public required int MaxMessagesPerConnection { get; init; }
    public required int MaxConnections { get; init; }
    public required int MaxConnectionsPerClient { get; init; }
    public required int MaxErrors { get; init; }
    public required TimeSpan CommandTimeout { get; init; }
    public required TimeSpan DataTimeout { get; init; }
    public required TimeSpan SessionTimeout { get; init; }
    public required TimeSpan AcceptTimeout { get; init; }
    public required HeloChecks HeloChecks { get; init; }
    public required TlsSettings Tls { get; init; }
    public required AuthSettings Auth { get; init; }
    public required DnsblSettings Dnsbl { get; init; }

    public bool IsTrusted(IPAddress? client) =>
        client is not null && TrustedNetworks.Any(n => n.Contains(client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client));

    internal static SmtpSettings From(Akka.Configuration.Config smtp)
    {
        var listeners = new List<EdgeListener>();
        if (smtp.GetBoolean("mx-enabled", true))
            listeners.Add(new EdgeListener("mx", ListenerKind.Mx, Endpoint(smtp, "actormta.smtp", 2525)));
        foreach (var (name, kind, port) in new[] { ("submission", ListenerKind.Submission, 2587), ("submissions", ListenerKind.Submissions, 2465) })
        {
            var section = smtp.GetConfig(name);
            if (section is not null && section.GetBoolean("enabled", false))
                listeners.Add(new EdgeListener(name, kind, Endpoint(section, $"actormta.smtp.{name}", port)));
        }
        if (listeners.Count == 0)
            throw new SettingsException("no SMTP listener is enabled: turn on actormta.smtp.mx-enabled, submission.enabled or submissions.enabled");
        var duplicate = listeners.GroupBy(l => l.Endpoint).FirstOrDefault(g => g.Count() > 1 && g.Key.Port != 0);
        if (duplicate is not null)
            throw new SettingsException($"listeners {string.Join(" and ", duplicate.Select(l => l.Name))} both use {duplicate.Key}");

        var tls = smtp.GetConfig("tls");
        var auth = smtp.GetConfig("auth");
        var dnsbl = smtp.GetConfig("dnsbl");
        var resolver = dnsbl?.GetString("resolver", "") ?? "";
        return new SmtpSettings
        {
            Listeners = listeners,
            TrustedNetworks = [.. (smtp.GetStringList("trusted-networks") ?? []).Select(ParseNetwork)],
            MaxMessageSize = checked((int)(smtp.GetByteSize("max-message-size") ?? 26214400)),
            MaxRecipients = Positive(smtp.GetInt("max-recipients", 100), "max-recipients"),
            // RFC 5321 §4.5.3.1.4: a server must take command lines of 512 octets.
            MaxCommandLine = Math.Max(512, smtp.GetInt("max-command-line", 2048)),
            MaxMessagesPerConnection = Positive(smtp.GetInt("max-messages-per-connection", 100), "max-messages-per-connection"),
            MaxConnections = Positive(smtp.GetInt("max-connections", 200), "max-connections"),
            MaxConnectionsPerClient = Positive(smtp.GetInt("max-connections-per-client", 20), "max-connections-per-client"),
            MaxErrors = Positive(smtp.GetInt("max-errors", 20), "max-errors"),
            CommandTimeout = smtp.GetTimeSpan("command-timeout", TimeSpan.FromMinutes(5)),
            DataTimeout = smtp.GetTimeSpan("data-timeout", TimeSpan.FromMinutes(3)),
            SessionTimeout = smtp.GetTimeSpan("session-timeout", TimeSpan.FromMinutes(30)),
            AcceptTimeout = smtp.GetTimeSpan("accept-timeout", TimeSpan.FromSeconds(30)),
            HeloChecks = smtp.GetString("helo-checks", "log").ToLowerInvariant() switch
            {
                "off" or "false" => HeloChecks.Off,
                "log" => HeloChecks.Log,
                "refuse" => HeloChecks.Refuse,
                var other => throw new SettingsException($"actormta.smtp.helo-checks \"{other}\" is not one of off, log, refuse"),
            },
            Tls = TlsSettings.From(tls),
            Auth = new AuthSettings
            {
                FailureDelay = auth?.GetTimeSpan("failure-delay", TimeSpan.FromSeconds(2)) ?? TimeSpan.FromSeconds(2),
                MaxFailures = Positive(auth?.GetInt("max-failures", 5) ?? 5, "auth.max-failures"),
                FailureWindow = auth?.GetTimeSpan("failure-window", TimeSpan.FromMinutes(15)) ?? TimeSpan.FromMinutes(15),
                Lockout = auth?.GetTimeSpan("lockout", TimeSpan.FromMinutes(15)) ?? TimeSpan.FromMinutes(15),
            },
            Dnsbl = new DnsblSettings
            {
                Zones = [.. (dnsbl?.GetStringList("zones") ?? []).Select(z => MailAddress.NormalizeDomain(z))],
                Resolver = resolver.Length == 0 ? null
                    : IPEndPoint.TryParse(resolver, out var endpoint) && endpoint.Port != 0 ? endpoint
                    : throw new SettingsException($"actormta.smtp.dnsbl.resolver \"{resolver}\" is not address:port (e.g. 127.0.0.1:53)"),
                Timeout = dnsbl?.GetTimeSpan("timeout", TimeSpan.FromSeconds(2)) ?? TimeSpan.FromSeconds(2),
            },
        };
    }

    static IPEndPoint Endpoint(Akka.Configuration.Config section, string path, int defaultPort)
    {
        var text = section.GetString("address", "127.0.0.1");
        if (!IPAddress.TryParse(text, out var address))
            throw new SettingsException($"{path}.address \"{text}\" is not an IP address");
        return new IPEndPoint(address, ActorMtaSettings.Port(section.GetInt("port", defaultPort), $"{path}.port"));
    }

    static IPNetwork ParseNetwork(string text)
    {
        var address = text.Split('/')[0];
        var isIPv6 = address.Contains(':', StringComparison.Ordinal);
        // IPv4 only as four decimal octets: the parser also takes "10.1", "010.0.0.0" (octal) and
        // "0x0a000000", which name other networks than they seem to.
        if ((isIPv6 || IsDottedQuad(address))
            && IPNetwork.TryParse(text.Contains('/', StringComparison.Ordinal) ? text : text + (isIPv6 ? "/128" : "/32"), out var network))
        {
            return network;
        }
        throw new SettingsException($"actormta.smtp.trusted-networks: \"{text}\" is not an address or a CIDR network (e.g. 192.0.2.0/24)");
    }

    static bool IsDottedQuad(string address) =>
        address.Split('.') is { Length: 4 } octets
        && octets.All(o => o.Length is >= 1 and <= 3 && o.All(char.IsAsciiDigit) && (o.Length == 1 || o[0] != '0'));

    static int Positive(int value, string key) =>
        value > 0 ? value : throw new SettingsException($"actormta.smtp.{key} must be at least 1 (it is {value})");
}

public enum ListenerKind
{
    /// <summary>Port 25: mail from the Internet; never AUTH.</summary>
    Mx,
    /// <summary>Port 587: STARTTLS, then AUTH required.</summary>
    Submission,
    /// <summary>Port 465: TLS from the first byte, then AUTH required.</summary>
    Submissions,
}

/// <summary>One SMTP listener: its name in the configuration and logs, its role and where it listens.</summary>
public sealed record EdgeListener(string Name, ListenerKind Kind, IPEndPoint Endpoint)
{
    public bool IsSubmission => Kind != ListenerKind.Mx;
}

public enum HeloChecks
{
    Off,
    Log,
    Refuse,
}

public sealed record TlsSettings
{
    /// <summary>PEM certificate (with chain); null: a self-signed one is generated.</summary>
    public string? CertificateFile { get; init; }
    public string? KeyFile { get; init; }

    internal static TlsSettings From(Akka.Configuration.Config? tls)
    {
        var certificate = tls?.GetString("certificate-file", "") ?? "";
        var key = tls?.GetString("key-file", "") ?? "";
        if ((certificate.Length == 0) != (key.Length == 0))
            throw new SettingsException("actormta.smtp.tls: set both certificate-file and key-file, or neither (for a generated self-signed certificate)");
        if (certificate.Length == 0)
            return new TlsSettings();
        foreach (var file in new[] { certificate, key })
        {
            if (!File.Exists(file))
                throw new SettingsException($"actormta.smtp.tls: {file} does not exist");
        }
        return new TlsSettings { CertificateFile = Path.GetFullPath(certificate), KeyFile = Path.GetFullPath(key) };
    }
}

public sealed record AuthSettings
{
    public required TimeSpan FailureDelay { get; init; }
    public required int MaxFailures { get; init; }
    public required TimeSpan FailureWindow { get; init; }
    public required TimeSpan Lockout { get; init; }
}

public sealed record DnsblSettings
{
    public required IReadOnlyList<string> Zones { get; init; }
    /// <summary>Null: the system's resolvers.</summary>
    public required IPEndPoint? Resolver { get; init; }
    public required TimeSpan Timeout { get; init; }
}

public sealed record QueueSettings
{
    public required bool Hold { get; init; }
    public required TimeSpan PollInterval { get; init; }
    public required TimeSpan ClaimLease { get; init; }
    public required int Shards { get; init; }
}

public sealed record ClusterSettings
{
    public required string Hostname { get; init; }
    public required int Port { get; init; }
    public required IReadOnlyList<string> SeedNodes { get; init; }
}
