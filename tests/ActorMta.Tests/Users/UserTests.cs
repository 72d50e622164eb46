using ActorMta.Config;
using ActorMta.Tests.Support;
using ActorMta.Users;

namespace ActorMta.Tests.Users;

public sealed class PasswordHashTests
{
    [Fact]
    public void a_password_is_stored_as_a_salted_pbkdf2_sha256_hash_with_600000_iterations()
    {
        var first = PasswordHash.Create("correct horse battery staple");
        var second = PasswordHash.Create("correct horse battery staple");

        Assert.StartsWith("$pbkdf2-sha256$i=600000$", first, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.True(PasswordHash.Verify("correct horse battery staple", second));
    }

    [Theory]
    [InlineData("correct horse battery stapl")]
    [InlineData("Correct horse battery staple")]
    [InlineData("")]
    public void a_wrong_password_does_not_verify(string password) =>
        Assert.False(PasswordHash.Verify(password, PasswordHash.Create("correct horse battery staple", iterations: 1000)));

    [Theory]
    [InlineData(null)]
    [InlineData("plain text")]
    [InlineData("$pbkdf2-sha256$i=x$AAAA$AAAA")]
    public void no_user_or_a_malformed_hash_never_verifies(string? stored) =>
        Assert.False(PasswordHash.Verify("plain text", stored));
}

public sealed class UserCommandTests : IDisposable
{
    readonly TempDirectory _data = new();
    readonly StringWriter _output = new();
    readonly StringWriter _error = new();
    readonly RecipientDirectory _directory = ActorMtaSettings.From(ActorMtaConfiguration.FromText("")).Recipients;

    UserStore Store => new(_data.File("users.json"));

    int Run(string password, params string[] args) =>
        UserCommand.Run(args, Store, _directory, _ => password, _output, _error, iterations: 1000);

    [Fact]
    public void add_stores_a_hash_in_a_file_only_its_owner_can_read()
    {
        Assert.Equal(0, Run("correct horse battery staple", "add", "Alice@Example.Test", "--sender", "@Alice.Test"));

        var user = Assert.Single(Store.Load());
        Assert.Equal("alice@example.test", user.Name);
        Assert.Equal(["@alice.test"], user.Senders);
        Assert.True(PasswordHash.Verify("correct horse battery staple", user.PasswordHash));
        Assert.DoesNotContain("correct horse", File.ReadAllText(Store.Path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Store.Path));
    }

    [Fact]
    public void passwd_senders_list_and_remove_change_only_what_they_name()
    {
        Run("first password", "add", "alice@example.test");
        Run("first password", "add", "bob@example.test");

        Assert.Equal(0, Run("second password", "passwd", "alice@example.test"));
        Assert.Equal(0, Run("", "senders", "bob@example.test", "sales@example.test", "@bob.test"));
        Assert.Equal(0, Run("", "list"));
        Assert.Equal(0, Run("", "remove", "alice@example.test"));

        Assert.Contains("alice@example.test\n", _output.ToString().ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("bob@example.test  senders: sales@example.test, @bob.test", _output.ToString(), StringComparison.Ordinal);
        var bob = Assert.Single(Store.Load());
        Assert.True(PasswordHash.Verify("first password", bob.PasswordHash));
    }

    [Theory]
    [InlineData("short", "add", "alice@example.test")]
    [InlineData("long enough", "add", "alice@example.test", "--sender", "not an address")]
    [InlineData("long enough", "add", "alice example")]
    [InlineData("long enough", "passwd", "nobody@example.test")]
    [InlineData("long enough", "frobnicate", "alice@example.test")]
    public void bad_requests_change_nothing_and_say_why(string password, params string[] args)
    {
        Assert.Equal(2, Run(password, args));

        Assert.Empty(Store.Load());
        Assert.StartsWith("actormta user: ", _error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void the_server_sees_a_changed_password_without_a_restart()
    {
        Run("first password", "add", "alice@example.test");
        var store = Store;
        var before = store.Find("ALICE@example.test")!.PasswordHash;

        Run("second password", "passwd", "alice@example.test");

        Assert.NotEqual(before, store.Find("alice@example.test")!.PasswordHash);
    }

    public void Dispose() => _data.Dispose();
}
