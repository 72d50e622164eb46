using System.Diagnostics;
using ActorMta.IntegrationTests.Support;

namespace ActorMta.IntegrationTests;

/// <summary>The README's submission example: add a user with the real command, then swaks over STARTTLS with AUTH.</summary>
public sealed class SubmissionQuickStartTests : IDisposable
{
    const string Password = "correct horse battery staple";
    readonly string _data = Path.Combine(Path.GetTempPath(), "actormta-it", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task a_user_added_with_the_command_submits_with_swaks_over_starttls_and_a_stranger_gets_530()
    {
        Directory.CreateDirectory(_data);
        var port = MtaProcess.FreePort();
        var config = Path.Combine(_data, "submission.conf");
        File.WriteAllText(config, $$"""
            actormta {
              data-dir = "{{_data}}"
              smtp.port = {{MtaProcess.FreePort()}}
              smtp.submission { enabled = on, port = {{port}} }
            }
            """);

        var (added, addOutput) = await RunAsync("dotnet", [Executable, "user", "add", "admin@example.test", "--config", config], stdin: Password + "\n");
        Assert.True(added == 0, addOutput);
        var (listed, listOutput) = await RunAsync("dotnet", [Executable, "user", "list", "--config", config]);
        Assert.Equal(0, listed);
        Assert.Contains("admin@example.test", listOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, File.ReadAllText(Path.Combine(_data, "users.json")), StringComparison.Ordinal);

        using var server = await MtaProcess.StartAsync(config);
        var (sent, transcript) = await RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--tls", "--auth", "PLAIN",
            "--auth-user", "admin@example.test", "--auth-password", Password,
            "--from", "admin@example.test", "--to", "postmaster@example.test"]);
        var (refused, strangerTranscript) = await RunAsync("swaks", ["--server", $"127.0.0.1:{port}", "--tls",
            "--from", "admin@example.test", "--to", "postmaster@example.test"]);

        Assert.True(sent == 0, transcript);
        Assert.Contains("<~  250 2.0.0 Ok: queued as ", transcript, StringComparison.Ordinal);
        Assert.NotEqual(0, refused);
        Assert.Contains("<~* 530 5.7.0", strangerTranscript, StringComparison.Ordinal);
    }

    static string Executable => Path.Combine(AppContext.BaseDirectory, "ActorMta.Host.dll");

    static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string? stdin = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var process = Process.Start(start)!;
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output + await error);
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
