using System.Security.Cryptography;

namespace ActorMta.Queue;

/// <summary>
/// Queue ids unique across the cluster without coordination: 48 bits of milliseconds and
/// 32 random bits in Crockford base32, so they sort by arrival and read well in logs.
/// </summary>
public static class QueueIds
{
    const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string Next(DateTimeOffset now)
    {
        var time = (ulong)now.ToUnixTimeMilliseconds() & 0xFFFF_FFFF_FFFF;
        var random = (ulong)(uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        Span<char> id = stackalloc char[16];
        // 80 bits = 16 symbols of 5 bits: the high 48 from time, the low 32 from chance.
        var high = time;
        var low = random;
        for (var i = 15; i >= 0; i--)
        {
            id[i] = Alphabet[(int)(low & 31)];
            low = (low >> 5) | ((high & 31) << 27);
            high >>= 5;
        }
        return new string(id);
    }
}
