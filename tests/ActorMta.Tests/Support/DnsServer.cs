using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ActorMta.Tests.Support;

/// <summary>
/// A real DNS server for the tests: dnsmasq on a free loopback port, authoritative for
/// <c>.test</c> (anything not listed there is NXDOMAIN), with the records each test needs.
/// </summary>
public sealed class DnsServer : IDisposable
{
    readonly Process _process;

    DnsServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);

    /// <param name="records">dnsmasq options, e.g. <c>--mx-host=a.test,mx.a.test,10</c>, <c>--host-record=mx.a.test,127.0.0.10</c>.</param>
    public static DnsServer Start(params string[] records)
    {
        var port = FreeUdpPort();
        var start = new ProcessStartInfo(SystemTool.Find("dnsmasq"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     "--no-daemon", "--keep-in-foreground", $"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                     "--no-resolv", "--no-hosts", "--no-poll", "--local=/test/", "--pid-file=", "--user=root", "--log-facility=-",
                 }.Concat(records))
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("dnsmasq did not start");
        var server = new DnsServer(process, port);
        server.WaitUntilAnswering();
        return server;
    }

    /// <summary>dnsmasq writes DNS records as an MX with a root exchange for RFC 7505's null MX.</summary>
    public static string NullMx(string domain) => $"--dns-rr={domain},15,000000";

    void WaitUntilAnswering()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        using var udp = new UdpClient();
        // A minimal query for "probe.test A"; any reply means the server is up.
        byte[] query = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, (byte)'p', (byte)'r', (byte)'o', (byte)'b', (byte)'e', 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0, 0, 1, 0, 1];
        udp.Client.ReceiveTimeout = 200;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException("dnsmasq exited: " + _process.StandardError.ReadToEnd());
            udp.Send(query, query.Length, Endpoint);
            try
            {
                IPEndPoint? from = null;
                udp.Receive(ref from);
                return;
            }
            catch (SocketException)
            {
            }
        }
        throw new TimeoutException("dnsmasq did not answer");
    }

    static int FreeUdpPort()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
