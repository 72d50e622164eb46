using System.Text;

namespace ActorMta.Benchmarks;

/// <summary>A plain-text message of an exact size: the usual headers, then 72-character lines.</summary>
static class SampleMessage
{
    public const int Size = 4096;

    const string Headers =
        "From: Sender <sender@foreign.test>\r\n" +
        "To: Alice <alice@example.test>\r\n" +
        "Subject: Quarterly figures\r\n" +
        "Date: Sat, 01 Mar 2025 12:00:00 +0000\r\n" +
        "Message-ID: <20250301120000.4711@foreign.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n";

    /// <summary>The message with every line ended by CRLF, as it will be queued.</summary>
    public static byte[] Bytes(int size = Size)
    {
        var text = new StringBuilder(Headers);
        for (var line = 1; text.Length + 74 <= size; line++)
            text.Append(Line(line)).Append("\r\n");
        // The last line takes what is left, so the size is exact.
        text.Append('x', Math.Max(0, size - text.Length - 2)).Append("\r\n");
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        return bytes.Length == size ? bytes : throw new InvalidOperationException($"sample is {bytes.Length} bytes, not {size}");
    }

    static string Line(int number) => $"Line {number:D3}: the quick brown fox jumps over the lazy dog, again and again.".PadRight(72, '.')[..72];
}
