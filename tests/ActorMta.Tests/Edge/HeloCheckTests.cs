using ActorMta.Tests.Support;

namespace ActorMta.Tests.Edge;

public sealed class StrictHeloServer : IAsyncLifetime
{
    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MtaServer.StartAsync("""
        actormta.smtp {
          helo-checks = refuse
          trusted-networks = []
          submission.enabled = on
        }
        """);

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>With <c>helo-checks = refuse</c>, a stranger on the MX listener must name itself properly.</summary>
public sealed class HeloCheckTests(StrictHeloServer fixture) : IClassFixture<StrictHeloServer>
{
    MtaServer Server => fixture.Server;

    [Theory]
    [InlineData("EHLO localhost", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")]
    [InlineData("HELO laptop", "504 5.5.2 <laptop>: Helo command rejected: need fully-qualified hostname")]
    [InlineData("EHLO mail.example.test", "550 5.7.1 <mail.example.test>: Helo command rejected: that is my name")]
    [InlineData("EHLO Example.Test", "550 5.7.1 <Example.Test>: Helo command rejected: that is my name")]
    [InlineData("EHLO [127.0.0.1]", "550 5.7.1 <[127.0.0.1]>: Helo command rejected: that is my address")]
    [InlineData("EHLO 192.0.2.1", "501 5.5.2 <192.0.2.1>: Helo command rejected: an address must be in brackets, e.g. [192.0.2.1]")]
    public async Task a_bad_helo_name_is_refused(string command, string expected)
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);

        var reply = await smtp.SendAsync(command);

        Assert.StartsWith(expected, reply, StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.SendAsync("EHLO client.example.org"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EHLO client.example.org")]
    [InlineData("EHLO [192.0.2.1]")]
    [InlineData("HELO relay.example.net")]
    public async Task a_proper_helo_name_is_accepted(string command)
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);

        Assert.StartsWith("250", await smtp.SendAsync(command), StringComparison.Ordinal);
    }

    [Fact]
    public async Task mail_programs_on_the_submission_listener_may_say_what_they_like()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.SubmissionPort);

        Assert.StartsWith("250", await smtp.SendAsync("EHLO laptop"), StringComparison.Ordinal);
    }
}
