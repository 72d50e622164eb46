using System.Diagnostics;
using System.Net.Sockets;

namespace ActorMta.Tests.Support;

/// <summary>
/// A real mailbox server: Debian's Dovecot with only its LMTP service, on a free loopback
/// port, storing Maildirs under a temporary directory. Only the listed users exist.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DovecotLmtp : IDisposable
{
    readonly Process _process;
    readonly TempDirectory _directory;

    DovecotLmtp(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    public static DovecotLmtp Start(params string[] users)
    {
        var directory = new TempDirectory();
        var root = directory.Path;
        // Dovecot delivers as an unprivileged user, which must be able to write here.
        File.SetUnixFileMode(root, (UnixFileMode)0x1FF);
        var port = MtaServer.FreePort();
        File.WriteAllLines(Path.Combine(root, "users"), users.Select(u => $"{u}::65534:65534::{root}/home/{u}::"));
        var config = Path.Combine(root, "dovecot.conf");
        File.WriteAllText(config, $$"""
            base_dir = {{root}}/run
            state_dir = {{root}}/state
            log_path = /dev/stderr
            protocols = lmtp
            listen = 127.0.0.1
            ssl = no
            default_internal_user = nobody
            default_login_user = nobody
            default_internal_group = nogroup
            mail_location = maildir:{{root}}/mail/%d/%n
            passdb {
              driver = passwd-file
              args = {{root}}/users
            }
            userdb {
              driver = passwd-file
              args = {{root}}/users
            }
            service lmtp {
              inet_listener lmtp {
                address = 127.0.0.1
                port = {{port}}
              }
            }
            service anvil {
              chroot =
            }
            service stats {
              unix_listener stats-reader {
                mode = 0666
              }
              unix_listener stats-writer {
                mode = 0666
              }
            }
            """);
        var start = new ProcessStartInfo(SystemTool.Find("dovecot"), ["-F", "-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("dovecot did not start");
        var dovecot = new DovecotLmtp(process, directory, port);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", port);
                return dovecot;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    public IReadOnlyList<string> Inbox(string user)
    {
        var (local, domain) = MailAddress.Split(user);
        var path = Path.Combine(_directory.Path, "mail", domain, local, "new");
        return Directory.Exists(path) ? Directory.GetFiles(path) : [];
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _directory.Dispose();
    }
}
