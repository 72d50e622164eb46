using ActorMta.Tests.Support;

namespace ActorMta.Tests.Edge;

public sealed class TrustingServer : IAsyncLifetime
{
    public MtaServer Server { get; private set; } = null!;

    // The default trusted networks: 127.0.0.0/8 and ::1/128.
    public async Task InitializeAsync() => Server = await MtaServer.StartAsync();

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>
/// A trusted client may relay; nothing else can. The refusals for strangers, with every
/// address trick, are in <see cref="SmtpEdgeTests"/>.
/// </summary>
public sealed class RelayTests(TrustingServer fixture) : IClassFixture<TrustingServer>
{
    MtaServer Server => fixture.Server;

    [Fact]
    public async Task a_client_in_a_trusted_network_may_relay_to_a_foreign_domain()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@example.test>");

        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<someone@elsewhere.test>"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<someone%elsewhere.test@example.test>")]
    [InlineData("<elsewhere.test!someone@example.test>")]
    [InlineData("<\"someone@elsewhere.test\"@example.test>")]
    public async Task address_tricks_in_a_local_domain_are_unknown_users_even_for_a_trusted_client(string recipient)
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@example.test>");

        Assert.StartsWith("550 5.1.1", await smtp.SendAsync($"RCPT TO:{recipient}"), StringComparison.Ordinal);
    }
}
