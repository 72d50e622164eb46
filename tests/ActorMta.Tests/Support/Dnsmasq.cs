using System.Diagnostics;
using System.Net;
using DnsClient;

namespace ActorMta.Tests.Support;

/// <summary>A real DNS server on a free loopback port, answering only for the zone it is given.</summary>
public sealed class Dnsmasq : IDisposable
{
    readonly Process _process;

    Dnsmasq(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);

    /// <param name="arguments">Records, e.g. --host-record=…, --txt-record=…</param>
    public static async Task<Dnsmasq> StartAsync(string zone, string probeName, params string[] arguments)
    {
        var port = MtaServer.FreePort();
        // Debian puts it in /usr/sbin, which a non-login PATH may lack.
        var start = new ProcessStartInfo(File.Exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--no-daemon", $"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file", $"--local=/{zone}/",
        }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("dnsmasq is not installed: apt-get install dnsmasq-base (tests/run does)", e);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new Dnsmasq(process, port);
        var dns = new LookupClient(new LookupClientOptions(server.Endpoint) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(200), Retries = 0 });
        var answered = await Eventually.Get(async () =>
        {
            try
            {
                return (await dns.QueryAsync(probeName, QueryType.A)).Answers.Count > 0;
            }
            catch (DnsResponseException)
            {
                return false;
            }
        }, ok => ok || process.HasExited, TimeSpan.FromSeconds(10));
        if (!answered)
        {
            server.Dispose();
            throw new InvalidOperationException($"dnsmasq did not answer on port {port}");
        }
        return server;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
