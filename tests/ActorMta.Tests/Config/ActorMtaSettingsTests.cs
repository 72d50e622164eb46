using System.Net;
using ActorMta.Config;
using ActorMta.Queue;
using ActorMta.Tests.Support;

namespace ActorMta.Tests.Config;

public sealed class ActorMtaSettingsTests : IDisposable
{
    /// <summary>The MX listener: <c>actormta.smtp.address</c> and <c>port</c>.</summary>
    static IPEndPoint Mx(ActorMtaSettings settings) => settings.Smtp.Listeners.Single(l => l.Kind == ListenerKind.Mx).Endpoint;

    static readonly IReadOnlyDictionary<string, string?> NoEnvironment = new Dictionary<string, string?>();

    readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    static ActorMtaSettings Settings(string overlay) => ActorMtaSettings.From(ActorMtaConfiguration.FromText(overlay));

    static SettingsException Refused(string overlay) => Assert.Throws<SettingsException>(() => Settings(overlay));

    static RecipientLookup.Local AssertLocal(RecipientLookup lookup) => Assert.IsType<RecipientLookup.Local>(lookup);

    string Overlay(string text)
    {
        var path = _temp.File($"overlay-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void documented_defaults_load_and_pass_validation()
    {
        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([], NoEnvironment));

        Assert.Equal("mail.example.test", settings.Hostname);
        var domain = Assert.Single(settings.Recipients.Domains);
        Assert.Equal("example.test", domain.Name);
        Assert.True(settings.Recipients.IsLocalDomain("example.test"));
        Assert.Equal(["admin@example.test"], AssertLocal(settings.Recipients.Lookup("postmaster", "example.test")).Mailboxes);
        Assert.Equal(["admin@example.test"], AssertLocal(settings.Recipients.Lookup("abuse", "example.test")).Mailboxes);
        Assert.Equal(["admin@example.test"], AssertLocal(settings.Recipients.Lookup("admin", "example.test")).Mailboxes);
    }

    [Fact]
    public void documented_defaults_give_the_documented_listener_and_queue_values()
    {
        var settings = Settings("");

        Assert.Equal(IPAddress.Loopback, Mx(settings).Address);
        Assert.Equal(2525, Mx(settings).Port);
        Assert.Equal(26214400, settings.Smtp.MaxMessageSize);
        Assert.Equal(100, settings.Smtp.MaxRecipients);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.Smtp.CommandTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Smtp.AcceptTimeout);
        Assert.False(settings.Queue.Hold);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Queue.PollInterval);
        Assert.Equal(TimeSpan.FromMinutes(2), settings.Queue.ClaimLease);
        Assert.Equal(100, settings.Queue.Shards);
        Assert.Equal(new RetrySchedule(TimeSpan.FromMinutes(5), 2.0, TimeSpan.FromHours(4), 0.15, TimeSpan.FromDays(5)), settings.Delivery.Default.Retry);
        Assert.Empty(settings.Cluster.SeedNodes);
        Assert.Equal(Path.GetFullPath("data"), settings.DataDirectory);
        Assert.Equal(Path.Combine(Path.GetFullPath("data"), "queue.db"), settings.QueueDatabasePath);
    }

    [Theory]
    [InlineData("mail")]
    [InlineData("localhost")]
    [InlineData("192.0.2.1")]
    [InlineData("[192.0.2.1]")]
    [InlineData("192.0.2.1.")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("mail_server.example.test")]
    [InlineData("mail server.example.test")]
    [InlineData("mail..example.test")]
    [InlineData("-mail.example.test")]
    [InlineData("mail-.example.test")]
    [InlineData("mail.example.test/x")]
    public void unusable_hostname_is_refused_at_startup(string hostname)
    {
        var e = Refused($"actormta.hostname = \"{hostname}\"");

        Assert.Contains("actormta.hostname", e.Message, StringComparison.Ordinal);
        Assert.Throws<SettingsException>(() => ActorMtaSettings.ValidateHostname(hostname));
    }

    [Fact]
    public void unqualified_hostname_is_refused_with_a_hint_to_qualify_it()
    {
        var e = Refused("actormta.hostname = mail");

        Assert.Contains("not fully qualified", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("[192.0.2.1]")]
    [InlineData("2001:db8::1")]
    public void ip_literal_hostname_is_refused_as_an_address(string hostname)
    {
        var e = Assert.Throws<SettingsException>(() => ActorMtaSettings.ValidateHostname(hostname));

        Assert.Contains("IP address", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Mail.Example.TEST", "mail.example.test")]
    [InlineData("mail.example.test.", "mail.example.test")]
    [InlineData(" mx-1.example.test ", "mx-1.example.test")]
    public void qualified_hostname_is_accepted_in_lower_case_without_trailing_dot(string hostname, string expected)
    {
        Assert.Equal(expected, Settings($"actormta.hostname = \"{hostname}\"").Hostname);
    }

    [Fact]
    public void local_domain_without_postmaster_is_refused()
    {
        var e = Refused("""
            actormta.local-domains = ["other.test"]
            actormta.domains."other.test" { mailboxes = [bob], aliases { abuse = bob } }
            """);

        Assert.Contains("other.test", e.Message, StringComparison.Ordinal);
        Assert.Contains("postmaster", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void local_domain_without_abuse_is_refused()
    {
        var e = Refused("""
            actormta.local-domains = ["other.test"]
            actormta.domains."other.test" { mailboxes = [bob], aliases { postmaster = bob } }
            """);

        Assert.Contains("other.test", e.Message, StringComparison.Ordinal);
        Assert.Contains("abuse", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void postmaster_and_abuse_as_plain_mailboxes_satisfy_the_rule()
    {
        var settings = Settings("""
            actormta.local-domains = ["other.test"]
            actormta.domains."other.test" { mailboxes = [postmaster, abuse] }
            """);

        Assert.Equal(["postmaster@other.test"], AssertLocal(settings.Recipients.Lookup("postmaster", "other.test")).Mailboxes);
        Assert.Equal(["abuse@other.test"], AssertLocal(settings.Recipients.Lookup("abuse", "other.test")).Mailboxes);
    }

    [Fact]
    public void local_domain_without_a_domains_entry_is_refused()
    {
        var e = Refused("""actormta.local-domains = ["example.test", "other.test"]""");

        Assert.Contains("other.test", e.Message, StringComparison.Ordinal);
        Assert.Contains("actormta.domains", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void invalid_local_domain_name_is_refused()
    {
        var e = Refused("""actormta.local-domains = ["exa_mple.test"]""");

        Assert.Contains("exa_mple.test", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void empty_local_domain_list_is_refused()
    {
        var e = Refused("actormta.local-domains = []");

        Assert.Contains("local-domains", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void alias_pointing_nowhere_is_refused()
    {
        var e = Refused("""actormta.domains."example.test".aliases.sales = "nobody" """);

        Assert.Contains("sales@example.test", e.Message, StringComparison.Ordinal);
        Assert.Contains("nobody", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void alias_into_a_domain_that_is_not_local_is_refused()
    {
        var e = Refused("""actormta.domains."example.test".aliases.sales = "bob@foreign.test" """);

        Assert.Contains("bob@foreign.test", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void alias_loop_is_refused()
    {
        var e = Refused("""actormta.domains."example.test".aliases { sales = info, info = sales }""");

        Assert.Contains("loop", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void alias_loop_across_domains_is_refused()
    {
        Refused("""
            actormta.local-domains = ["example.test", "other.test"]
            actormta.domains."example.test".aliases.sales = "sales@other.test"
            actormta.domains."other.test" { mailboxes = [bob], aliases { postmaster = bob, abuse = bob, sales = "sales@example.test" } }
            """);
    }

    [Fact]
    public void overlay_replaces_the_local_domain_list()
    {
        var settings = Settings("""
            actormta.local-domains = ["other.test"]
            actormta.domains."other.test" { mailboxes = [bob], aliases { postmaster = bob, abuse = bob } }
            """);

        var domain = Assert.Single(settings.Recipients.Domains);
        Assert.Equal("other.test", domain.Name);
        Assert.False(settings.Recipients.IsLocalDomain("example.test"));
        Assert.IsType<RecipientLookup.Foreign>(settings.Recipients.Lookup("admin", "example.test"));
        Assert.Equal(["bob@other.test"], AssertLocal(settings.Recipients.Lookup("postmaster", "other.test")).Mailboxes);
    }

    [Fact]
    public void overlay_merges_objects_key_by_key()
    {
        var settings = Settings("""
            actormta.domains."example.test".mailboxes = [admin, bob]
            actormta.smtp.port = 25
            """);

        // The aliases of the defaults survive an overlay that only names the mailboxes.
        Assert.Equal(["admin@example.test"], AssertLocal(settings.Recipients.Lookup("postmaster", "example.test")).Mailboxes);
        Assert.Equal(["bob@example.test"], AssertLocal(settings.Recipients.Lookup("bob", "example.test")).Mailboxes);
        // The rest of the smtp object survives an overlay that only names the port.
        Assert.Equal(25, Mx(settings).Port);
        Assert.Equal(100, settings.Smtp.MaxRecipients);
        Assert.Equal(IPAddress.Loopback, Mx(settings).Address);
    }

    [Fact]
    public void overlay_file_values_apply_without_environment()
    {
        var overlay = Overlay("""
            actormta.hostname = "mx.overlay.test"
            actormta.smtp.port = 2600
            actormta.queue.hold = off
            """);

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([overlay], NoEnvironment));

        Assert.Equal("mx.overlay.test", settings.Hostname);
        Assert.Equal(2600, Mx(settings).Port);
        Assert.False(settings.Queue.Hold);
    }

    [Fact]
    public void environment_overrides_the_overlay_file()
    {
        var overlay = Overlay("""
            actormta.hostname = "mx.overlay.test"
            actormta.smtp.port = 2600
            actormta.queue.hold = off
            """);
        var environment = new Dictionary<string, string?>
        {
            ["ACTORMTA_HOSTNAME"] = "mx.env.test",
            ["ACTORMTA_SMTP_PORT"] = "2727",
            ["ACTORMTA_HOLD"] = "on",
        };

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([overlay], environment));

        Assert.Equal("mx.env.test", settings.Hostname);
        Assert.Equal(2727, Mx(settings).Port);
        Assert.True(settings.Queue.Hold);
    }

    [Fact]
    public void environment_sets_data_dir_and_listener_address()
    {
        var dataDir = Path.Combine(_temp.Path, "spool+mail & more");
        var environment = new Dictionary<string, string?>
        {
            ["ACTORMTA_DATA_DIR"] = dataDir,
            ["ACTORMTA_SMTP_ADDRESS"] = "0.0.0.0",
        };

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([], environment));

        Assert.Equal(dataDir, settings.DataDirectory);
        Assert.Equal(IPAddress.Any, Mx(settings).Address);
    }

    [Fact]
    public void empty_environment_variable_leaves_the_file_value()
    {
        var overlay = Overlay("actormta.hostname = \"mx.overlay.test\"");
        var environment = new Dictionary<string, string?> { ["ACTORMTA_HOSTNAME"] = "", ["ACTORMTA_SMTP_PORT"] = null };

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([overlay], environment));

        Assert.Equal("mx.overlay.test", settings.Hostname);
        Assert.Equal(2525, Mx(settings).Port);
    }

    [Fact]
    public void unqualified_hostname_from_environment_is_refused_at_startup()
    {
        var environment = new Dictionary<string, string?> { ["ACTORMTA_HOSTNAME"] = "mail" };

        Assert.Throws<SettingsException>(() => ActorMtaSettings.From(ActorMtaConfiguration.Load([], environment)));
    }

    [Fact]
    public void later_overlay_files_win_over_earlier_ones()
    {
        var first = Overlay("actormta { hostname = \"mx1.example.test\", smtp.port = 2601 }");
        var second = Overlay("actormta.hostname = \"mx2.example.test\"");

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([first, second], NoEnvironment));

        Assert.Equal("mx2.example.test", settings.Hostname);
        Assert.Equal(2601, Mx(settings).Port);
    }

    [Fact]
    public void missing_config_file_is_refused_at_startup()
    {
        var missing = _temp.File("does-not-exist.conf");

        var e = Assert.Throws<SettingsException>(() => ActorMtaConfiguration.Load([missing], NoEnvironment));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("actormta.hostname = \"mx.example.test\" ,,, x", "does not parse")]
    [InlineData("actormta.hostname = ${nowhere}", "nowhere")]
    public void config_file_that_does_not_parse_is_refused_at_startup(string text, string hint)
    {
        var broken = Overlay(text);

        var e = Assert.Throws<SettingsException>(() => ActorMtaConfiguration.Load([broken], NoEnvironment));

        Assert.Contains(hint, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void listener_address_that_is_not_an_ip_is_refused()
    {
        var e = Refused("actormta.smtp.address = \"mail.example.test\"");

        Assert.Contains("actormta.smtp.address", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void documented_defaults_give_the_documented_delivery_values()
    {
        var delivery = Settings("").Delivery;

        Assert.Equal(25, delivery.Default.Port);
        Assert.False(delivery.Default.RequireTls);
        Assert.Empty(delivery.Destinations);
        Assert.Null(delivery.Smarthost);
        Assert.Null(delivery.DnsServer);
        Assert.Equal(TimeSpan.FromSeconds(5), delivery.DnsTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), delivery.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), delivery.CommandTimeout);
        Assert.True(delivery.DelayNoticeOnFirstFailure);
        Assert.Equal(TimeSpan.FromHours(12), delivery.DelayNoticeAfter);
    }

    [Fact]
    public void queue_retry_settings_make_the_default_retry_schedule()
    {
        var retry = Settings("actormta.queue { first-retry = 10m, backoff-factor = 1.5, max-retry-interval = 2h, retry-jitter = 0, max-age = 3d }").Delivery.Default.Retry;

        Assert.Equal(new RetrySchedule(TimeSpan.FromMinutes(10), 1.5, TimeSpan.FromHours(2), 0, TimeSpan.FromDays(3)), retry);
    }

    [Fact]
    public void destination_settings_apply_to_their_domain_only()
    {
        var delivery = Settings("""actormta.delivery.destinations."x.test" { max-age = 1d, port = 2525, require-tls = on }""").Delivery;

        Assert.Equal(new DestinationSettings(delivery.Default.Retry with { MaxAge = TimeSpan.FromDays(1) }, 2525, true), delivery.For("x.test"));
        Assert.Equal(delivery.For("x.test"), delivery.For("X.Test."));
        Assert.Equal(delivery.Default, delivery.For("y.test"));
        Assert.Equal(delivery.Default, delivery.For("mx.x.test"));
    }

    [Fact]
    public void destination_named_in_any_spelling_is_found_by_its_lower_case_name()
    {
        var delivery = Settings("""actormta.delivery.destinations."X.Test." { port = 2526 }""").Delivery;

        Assert.Equal(["x.test"], delivery.Destinations.Keys);
        Assert.Equal(2526, delivery.For("x.test").Port);
    }

    [Fact]
    public void destination_takes_what_it_does_not_set_from_the_queue_and_delivery_defaults()
    {
        var delivery = Settings("""
            actormta.queue.first-retry = 10m
            actormta.delivery { port = 2500, require-tls = on }
            actormta.delivery.destinations."x.test" { backoff-factor = 3 }
            """).Delivery;

        Assert.Equal(
            new DestinationSettings(new RetrySchedule(TimeSpan.FromMinutes(10), 3, TimeSpan.FromHours(4), 0.15, TimeSpan.FromDays(5)), 2500, true),
            delivery.For("x.test"));
    }

    [Theory]
    [InlineData("first-retry = 0s")]
    [InlineData("backoff-factor = 0.5")]
    [InlineData("max-retry-interval = 1m")]
    [InlineData("retry-jitter = 1")]
    [InlineData("retry-jitter = -0.1")]
    [InlineData("max-age = 0s")]
    public void retry_schedule_that_could_retry_too_soon_or_never_is_refused(string setting)
    {
        Assert.Contains("actormta.queue:", Refused($"actormta.queue.{setting}").Message, StringComparison.Ordinal);
        Assert.Contains("actormta.delivery.destinations.\"x.test\"", Refused($"actormta.delivery.destinations.\"x.test\" {{ {setting} }}").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void retry_schedule_at_its_limits_is_accepted()
    {
        var retry = Settings("actormta.queue { backoff-factor = 1, retry-jitter = 0, max-retry-interval = 5m }").Delivery.Default.Retry;

        Assert.Equal(new RetrySchedule(TimeSpan.FromMinutes(5), 1, TimeSpan.FromMinutes(5), 0, TimeSpan.FromDays(5)), retry);
    }

    [Theory]
    [InlineData("actormta.smtp.port = 65536", "actormta.smtp.port")]
    [InlineData("actormta.smtp.port = -1", "actormta.smtp.port")]
    [InlineData("actormta.delivery.port = 70000", "actormta.delivery.port")]
    [InlineData("actormta.delivery.destinations.\"x.test\".port = 70000", "actormta.delivery.destinations.\"x.test\".port")]
    public void port_outside_the_tcp_range_is_refused(string overlay, string key)
    {
        var e = Refused(overlay);

        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a TCP port", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65535)]
    public void listener_port_within_the_tcp_range_is_accepted(int port)
    {
        // 0 asks the system for any free port (single-node tests).
        Assert.Equal(port, Mx(Settings($"actormta.smtp.port = {port}")).Port);
    }

    [Theory]
    [InlineData("actormta.queue.hold = maybe")]
    [InlineData("actormta.smtp.command-timeout = soon")]
    [InlineData("actormta.smtp.port = twenty-five")]
    [InlineData("actormta.smtp.max-message-size = huge")]
    [InlineData("actormta.queue.backoff-factor = fast")]
    [InlineData("actormta.delivery.destinations.\"x.test\".max-age = forever")]
    public void value_of_the_wrong_kind_is_refused_as_invalid(string overlay)
    {
        var e = Refused(overlay);

        Assert.Contains("invalid", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ACTORMTA_SMTP_PORT", "2727x")]
    [InlineData("ACTORMTA_SMTP_PORT", "70000")]
    [InlineData("ACTORMTA_HOLD", "maybe")]
    [InlineData("ACTORMTA_SMTP_ADDRESS", "mail.example.test")]
    public void unusable_environment_value_is_refused_at_startup(string variable, string value)
    {
        var environment = new Dictionary<string, string?> { [variable] = value };

        Assert.Throws<SettingsException>(() => ActorMtaSettings.From(ActorMtaConfiguration.Load([], environment)));
    }

    [Fact]
    public void environment_value_is_taken_literally_whatever_hocon_would_make_of_it()
    {
        var dataDir = "/srv/${HOME}/\"mail\" # not a comment\n}";

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([], new Dictionary<string, string?> { ["ACTORMTA_DATA_DIR"] = dataDir }));

        Assert.Equal(dataDir, settings.DataDirectory);
    }

    [Fact]
    public void environment_still_applies_when_a_file_leaves_an_object_open()
    {
        // The variables are parsed on their own: they cannot end up inside the file's last object.
        var overlay = Overlay("actormta {\n  smtp.port = 2600\n");
        var environment = new Dictionary<string, string?> { ["ACTORMTA_HOSTNAME"] = "mx.env.test", ["ACTORMTA_HOLD"] = "on" };

        var settings = ActorMtaSettings.From(ActorMtaConfiguration.Load([overlay], environment));

        Assert.Equal("mx.env.test", settings.Hostname);
        Assert.True(settings.Queue.Hold);
    }

    [Fact]
    public void documented_trusted_networks_are_the_loopback_networks()
    {
        Assert.Equal([IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")], Settings("").Smtp.TrustedNetworks);
    }

    [Fact]
    public void trusted_networks_take_cidr_networks_and_bare_addresses()
    {
        var networks = Settings("""actormta.smtp.trusted-networks = ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "2001:db9::25"]""").Smtp.TrustedNetworks;

        Assert.Equal(
            [IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("198.51.100.7/32"), IPNetwork.Parse("2001:db9::25/128")],
            networks);
        bool Trusted(string address) => networks.Any(n => n.Contains(IPAddress.Parse(address)));
        Assert.True(Trusted("192.0.2.200"));
        Assert.False(Trusted("192.0.3.1"));
        Assert.True(Trusted("198.51.100.7"));
        Assert.False(Trusted("198.51.100.8"));
        Assert.True(Trusted("2001:db8:1::1"));
        Assert.True(Trusted("2001:db9::25"));
        Assert.False(Trusted("2001:db9::26"));
    }

    [Fact]
    public void an_empty_trusted_network_list_trusts_nobody()
    {
        Assert.Empty(Settings("actormta.smtp.trusted-networks = []").Smtp.TrustedNetworks);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("mail.example.test")]
    [InlineData("192.0.2.0/33")]
    [InlineData("2001:db8::/129")]
    [InlineData("192.0.2.0/-1")]
    [InlineData("192.0.2.0/24/8")]
    [InlineData("192.0.2.0 /24")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.0.0.1")]
    // Shorthands the system resolver also takes, which name other networks than they seem to:
    // 10.0.0.1, 192.168.0.0/24, 8.0.0.0/8 (octal), 10.0.0.0/8 (hex), 10.0.0.0 (one number).
    [InlineData("10.1")]
    [InlineData("192.168.1/24")]
    [InlineData("010.0.0.0/8")]
    [InlineData("0x0a000000/8")]
    [InlineData("167772160")]
    public void trusted_network_that_is_not_an_address_or_a_cidr_network_is_refused(string network)
    {
        var e = Refused($"actormta.smtp.trusted-networks = [\"{network}\"]");

        Assert.Contains("actormta.smtp.trusted-networks", e.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{network}\"", e.Message, StringComparison.Ordinal);
    }
}
