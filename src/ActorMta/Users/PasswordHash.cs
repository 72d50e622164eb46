using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ActorMta.Users;

/// <summary>
/// Salted, slow password hashes: PBKDF2 with HMAC-SHA-256 (RFC 8018), in the PHC string form
/// <c>$pbkdf2-sha256$i=600000$&lt;salt&gt;$&lt;hash&gt;</c> (unpadded Base64). The iteration count is
/// stored with each hash, so it can be raised later without invalidating old ones.
/// </summary>
public static class PasswordHash
{
    /// <summary>OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;
    const int SaltBytes = 16;
    const int HashBytes = 32;
    const string Prefix = "$pbkdf2-sha256$i=";

    // Verifying an unknown user costs as much as a known one: timing does not tell which names exist.
    static readonly string Decoy = Create("decoy password", DefaultIterations);

    public static string Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return $"{Prefix}{iterations.ToString(CultureInfo.InvariantCulture)}${Encode(salt)}${Encode(hash)}";
    }

    /// <param name="encoded">The stored hash; null (no such user) is checked against a decoy and fails.</param>
    public static bool Verify(string password, string? encoded)
    {
        if (encoded is null || !TryParse(encoded, out var iterations, out var salt, out var expected))
        {
            TryParse(Decoy, out iterations, out salt, out expected);
            Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    static bool TryParse(string encoded, out int iterations, out byte[] salt, out byte[] hash)
    {
        (iterations, salt, hash) = (0, [], []);
        if (!encoded.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        var parts = encoded[Prefix.Length..].Split('$');
        if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1)
            return false;
        try
        {
            (salt, hash) = (Decode(parts[1]), Decode(parts[2]));
        }
        catch (FormatException)
        {
            return false;
        }
        return salt.Length > 0 && hash.Length > 0;
    }

    static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    static byte[] Decode(string text) => Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '='));
}
