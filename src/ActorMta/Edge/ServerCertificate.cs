using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorMta.Config;
using Microsoft.Extensions.Logging;
using SmtpServer;

namespace ActorMta.Edge;

/// <summary>
/// The certificate for STARTTLS and implicit TLS: the configured PEM files, read again when
/// they change (a renewal needs no restart), or a self-signed one generated at start-up.
/// </summary>
public sealed class ServerCertificate : ICertificateFactory
{
    /// <summary>TLS 1.2 and 1.3 only (RFC 8996 retired the older versions).</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    readonly TlsSettings _settings;
    readonly ILogger<ServerCertificate> _logger;
    readonly Lock _lock = new();
    (DateTime Certificate, DateTime Key) _loadedStamps;
    SslStreamCertificateContext _current;

    public ServerCertificate(ActorMtaSettings settings, ILogger<ServerCertificate> logger)
    {
        _settings = settings.Smtp.Tls;
        _logger = logger;
        if (_settings.CertificateFile is null)
        {
            _current = SslStreamCertificateContext.Create(SelfSigned(settings.Hostname), null);
            logger.SelfSignedCertificate(settings.Hostname);
        }
        else
        {
            (_current, _loadedStamps) = Load();
            logger.CertificateLoaded(_settings.CertificateFile, _current.TargetCertificate.Subject, _current.TargetCertificate.NotAfter);
        }
    }

    public X509Certificate GetServerCertificate(ISessionContext sessionContext) => Current().TargetCertificate;

    /// <summary>Options for the handshake: the certificate with its chain, as loaded now.</summary>
    internal SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = Current(),
        EnabledSslProtocols = Protocols,
        ClientCertificateRequired = false,
    };

    SslStreamCertificateContext Current()
    {
        if (_settings.CertificateFile is null)
            return _current;
        lock (_lock)
        {
            if (Stamps() != _loadedStamps)
            {
                try
                {
                    (_current, _loadedStamps) = Load();
                    _logger.CertificateLoaded(_settings.CertificateFile, _current.TargetCertificate.Subject, _current.TargetCertificate.NotAfter);
                }
                catch (Exception e) when (e is IOException or CryptographicException or ArgumentException)
                {
                    // Half-written during a renewal, perhaps: keep serving the old one and try again next time.
                    _logger.CertificateReloadFailed(_settings.CertificateFile, e.Message);
                }
            }
            return _current;
        }
    }

    (DateTime, DateTime) Stamps() => (File.GetLastWriteTimeUtc(_settings.CertificateFile!), File.GetLastWriteTimeUtc(_settings.KeyFile!));

    (SslStreamCertificateContext, (DateTime, DateTime)) Load()
    {
        var stamps = Stamps();
        var leaf = X509Certificate2.CreateFromPemFile(_settings.CertificateFile!, _settings.KeyFile);
        // The file may carry the intermediates after the leaf; clients need them to build the chain.
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(_settings.CertificateFile!);
        var chain = new X509Certificate2Collection(all.Skip(1).ToArray());
        return (SslStreamCertificateContext.Create(leaf, chain, offline: true), stamps);
    }

    /// <summary>A development certificate for the host name, valid for a year.</summary>
    public static X509Certificate2 SelfSigned(string hostname)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
