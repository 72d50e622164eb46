using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorMta.Edge;
using ActorMta.Tests.Support;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace ActorMta.Tests.Edge;

/// <summary>TLS from the operator's PEM files, and a renewed file taken up without a restart.</summary>
public sealed class TlsCertificateTests
{
    [Fact]
    public async Task starttls_presents_the_configured_pem_certificate_and_a_renewed_one_without_a_restart()
    {
        using var data = new TempDirectory();
        var certificateFile = data.File("cert.pem");
        var keyFile = data.File("key.pem");
        WritePem("first.example.test", certificateFile, keyFile);
        await using var server = await MtaServer.StartAsync($$"""
            actormta.smtp {
              submission.enabled = on
              tls { certificate-file = "{{certificateFile}}", key-file = "{{keyFile}}" }
            }
            """, data.Path);

        Assert.Equal("CN=first.example.test", await PresentedSubject(server.SubmissionPort));

        WritePem("renewed.example.test", certificateFile, keyFile);
        // A renewal is a later file, whatever the file system's timestamp resolution.
        File.SetLastWriteTimeUtc(certificateFile, DateTime.UtcNow.AddMinutes(1));

        Assert.Equal("CN=renewed.example.test", await PresentedSubject(server.SubmissionPort));
        Assert.Equal("CN=renewed.example.test", await PresentedSubject(server.Port));
    }

    static void WritePem(string hostname, string certificateFile, string keyFile)
    {
        using var certificate = ServerCertificate.SelfSigned(hostname);
        using var key = certificate.GetRSAPrivateKey()!;
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
    }

    static async Task<string> PresentedSubject(int port)
    {
        string? subject = null;
        using var client = new SmtpClient
        {
            CheckCertificateRevocation = false,
            ServerCertificateValidationCallback = (_, certificate, _, _) =>
            {
                subject = certificate?.Subject;
                return true;
            },
        };
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls);
        await client.DisconnectAsync(true);
        return subject!;
    }
}
