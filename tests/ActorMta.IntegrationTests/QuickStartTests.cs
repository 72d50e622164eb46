using System.Diagnostics;
using ActorMta.IntegrationTests.Support;

namespace ActorMta.IntegrationTests;

/// <summary>The README's promise: start the server, swaks a message to postmaster, find it in the Maildir.</summary>
public sealed class QuickStartTests : IDisposable
{
    readonly string _data = Path.Combine(Path.GetTempPath(), "actormta-it", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task swaks_to_postmaster_lands_in_the_admin_maildir()
    {
        Directory.CreateDirectory(_data);
        var port = MtaProcess.FreePort();
        var config = Path.Combine(_data, "quickstart.conf");
        File.WriteAllText(config, $$"""actormta { data-dir = "{{_data}}", smtp.port = {{port}} }""");
        using var server = await MtaProcess.StartAsync(config);

        var swaks = Process.Start(new ProcessStartInfo("swaks", ["--server", $"127.0.0.1:{port}", "--to", "postmaster@example.test", "--from", "someone@elsewhere.test"])
        {
            RedirectStandardOutput = true,
        })!;
        var transcript = await swaks.StandardOutput.ReadToEndAsync();
        await swaks.WaitForExitAsync();

        Assert.True(swaks.ExitCode == 0, transcript);
        Assert.Contains("<-  250 2.0.0 Ok: queued as ", transcript, StringComparison.Ordinal);
        var maildir = Path.Combine(_data, "mail", "example.test", "admin", "new");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(Directory.Exists(maildir) && Directory.GetFiles(maildir).Length > 0) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var delivered = Assert.Single(Directory.GetFiles(maildir));
        Assert.Contains("X-Original-To: postmaster@example.test", File.ReadAllText(delivered), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
