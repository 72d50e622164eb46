using ActorMta.Config;

namespace ActorMta.Tests.Config;

public sealed class RecipientDirectoryTests
{
    /// <summary>Two local domains; aliases that fan out, nest, repeat a mailbox and cross into the other domain.</summary>
    internal const string TwoDomains = """
        actormta {
          local-domains = ["example.test", "other.test"]
          domains {
            "example.test" {
              mailboxes = [admin, alice, Bob]
              aliases {
                postmaster = admin
                abuse = admin
                team = [alice, bob, "carol@other.test", Alice]
                info = team
                "Sales" = "bob@example.test"
              }
            }
            "other.test" {
              mailboxes = [carol]
              aliases {
                postmaster = "admin@example.test"
                abuse = "postmaster"
              }
            }
          }
        }
        """;

    internal static RecipientDirectory DirectoryFrom(string overlay = TwoDomains) =>
        ActorMtaSettings.From(ActorMtaConfiguration.FromText(overlay)).Recipients;

    readonly RecipientDirectory _directory = DirectoryFrom();

    IReadOnlyList<string> Mailboxes(string localPart, string domain) =>
        Assert.IsType<RecipientLookup.Local>(_directory.Lookup(localPart, domain)).Mailboxes;

    [Theory]
    [InlineData("alice", "example.test")]
    [InlineData("ALICE", "example.test")]
    [InlineData("aLiCe", "Example.TEST")]
    [InlineData("alice", "example.test.")]
    [InlineData("Alice", "EXAMPLE.TEST.")]
    public void local_part_and_domain_match_regardless_of_case_and_trailing_dot(string localPart, string domain)
    {
        Assert.Equal(["alice@example.test"], Mailboxes(localPart, domain));
    }

    [Fact]
    public void mailbox_configured_in_upper_case_is_found_in_lower_case()
    {
        Assert.Equal(["bob@example.test"], Mailboxes("bob", "example.test"));
        Assert.Equal(["bob@example.test"], Mailboxes("BOB", "example.test"));
    }

    [Theory]
    [InlineData("alice+news")]
    [InlineData("Alice+News")]
    [InlineData("alice+")]
    [InlineData("alice+a+b")]
    public void address_extension_reaches_the_user(string localPart)
    {
        Assert.Equal(["alice@example.test"], Mailboxes(localPart, "example.test"));
    }

    [Fact]
    public void address_extension_on_an_alias_reaches_the_alias_targets()
    {
        Assert.Equal(["admin@example.test"], Mailboxes("postmaster+reports", "example.test"));
    }

    [Fact]
    public void address_extension_of_an_unknown_user_is_unknown()
    {
        Assert.IsType<RecipientLookup.UnknownUser>(_directory.Lookup("nobody+news", "example.test"));
        Assert.IsType<RecipientLookup.UnknownUser>(_directory.Lookup("+alice", "example.test"));
    }

    [Fact]
    public void address_extensions_are_off_with_an_empty_delimiter()
    {
        var directory = DirectoryFrom(TwoDomains + "\nactormta.recipient-delimiter = \"\"");

        Assert.IsType<RecipientLookup.UnknownUser>(directory.Lookup("alice+news", "example.test"));
        Assert.IsType<RecipientLookup.Local>(directory.Lookup("alice", "example.test"));
    }

    [Fact]
    public void a_different_delimiter_is_honoured()
    {
        var directory = DirectoryFrom(TwoDomains + "\nactormta.recipient-delimiter = \"-\"");

        Assert.Equal(["alice@example.test"], Assert.IsType<RecipientLookup.Local>(directory.Lookup("alice-news", "example.test")).Mailboxes);
        Assert.IsType<RecipientLookup.UnknownUser>(directory.Lookup("alice+news", "example.test"));
    }

    [Fact]
    public void mailbox_whose_name_contains_the_delimiter_is_matched_whole_first()
    {
        var directory = DirectoryFrom(TwoDomains + "\nactormta.domains.\"example.test\".mailboxes = [admin, alice, bob, \"alice+list\"]");

        Assert.Equal(["alice+list@example.test"], Assert.IsType<RecipientLookup.Local>(directory.Lookup("alice+list", "example.test")).Mailboxes);
        Assert.Equal(["alice@example.test"], Assert.IsType<RecipientLookup.Local>(directory.Lookup("alice+other", "example.test")).Mailboxes);
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("alic")]
    [InlineData("alice.smith")]
    [InlineData("")]
    public void unknown_user_in_a_local_domain_is_unknown(string localPart)
    {
        Assert.IsType<RecipientLookup.UnknownUser>(_directory.Lookup(localPart, "example.test"));
    }

    [Fact]
    public void mailbox_of_one_local_domain_is_unknown_in_the_other()
    {
        Assert.IsType<RecipientLookup.UnknownUser>(_directory.Lookup("alice", "other.test"));
    }

    [Theory]
    [InlineData("alice", "foreign.test")]
    [InlineData("postmaster", "foreign.test")]
    [InlineData("alice", "sub.example.test")]
    [InlineData("alice", "test")]
    [InlineData("alice", "example.test.foreign.test")]
    public void address_in_a_foreign_domain_is_foreign(string localPart, string domain)
    {
        Assert.IsType<RecipientLookup.Foreign>(_directory.Lookup(localPart, domain));
        Assert.False(_directory.IsLocalDomain(domain));
    }

    [Theory]
    [InlineData("alice%foreign.test")]
    [InlineData("foreign.test!alice")]
    [InlineData("\"alice@foreign.test\"")]
    [InlineData("alice@foreign.test")]
    [InlineData("@foreign.test:alice")]
    [InlineData("alice%example.test")]
    [InlineData("other.test!carol")]
    [InlineData("\"alice\"")]
    public void routing_tricks_in_the_local_part_are_unknown_users(string localPart)
    {
        // Neither a local mailbox nor relaying: the local part is compared literally.
        Assert.IsType<RecipientLookup.UnknownUser>(_directory.Lookup(localPart, "example.test"));
    }

    [Fact]
    public void routing_trick_behind_an_address_extension_stays_in_the_users_mailbox()
    {
        // Whatever follows the delimiter is never interpreted: it cannot route mail elsewhere.
        Assert.Equal(["alice@example.test"], Mailboxes("alice+x%foreign.test", "example.test"));
    }

    [Fact]
    public void alias_expands_to_every_mailbox_once_including_one_in_another_local_domain()
    {
        Assert.Equal(["alice@example.test", "bob@example.test", "carol@other.test"], Mailboxes("team", "example.test"));
    }

    [Fact]
    public void alias_of_an_alias_expands_through_both()
    {
        Assert.Equal(["alice@example.test", "bob@example.test", "carol@other.test"], Mailboxes("Info", "example.test"));
    }

    [Fact]
    public void alias_named_in_upper_case_is_found_in_any_case()
    {
        Assert.Equal(["bob@example.test"], Mailboxes("sales", "example.test"));
        Assert.Equal(["bob@example.test"], Mailboxes("SALES", "example.test"));
    }

    [Fact]
    public void alias_may_point_at_a_mailbox_in_another_local_domain()
    {
        Assert.Equal(["admin@example.test"], Mailboxes("postmaster", "other.test"));
        Assert.Equal(["admin@example.test"], Mailboxes("abuse", "other.test"));
    }

    [Fact]
    public void both_domains_are_local_in_any_spelling()
    {
        Assert.True(_directory.IsLocalDomain("example.test"));
        Assert.True(_directory.IsLocalDomain("OTHER.test."));
        Assert.Equal(2, _directory.Domains.Count);
    }
}
