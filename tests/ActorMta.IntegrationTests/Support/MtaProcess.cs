using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorMta.IntegrationTests.Support;

/// <summary>The real executable as a child process, so tests can kill it like a power cut would.</summary>
public sealed class MtaProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();
    readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    MtaProcess(Process process)
    {
        _process = process;
    }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public static async Task<MtaProcess> StartAsync(string configFile, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ActorMta.Host.dll"));
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(configFile);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        var mta = new MtaProcess(process);
        process.OutputDataReceived += (_, e) => mta.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => mta.Collect(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(mta._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != mta._listening.Task)
        {
            mta.Dispose();
            throw new InvalidOperationException("ActorMta did not start listening:\n" + mta.Output);
        }
        return mta;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly like a crash.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            Kill();
        _process.Dispose();
    }

    void Collect(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        if (line.Contains("SMTP listener on", StringComparison.Ordinal))
            _listening.TrySetResult();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
