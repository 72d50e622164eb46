using System.Buffers;

namespace ActorMta.Edge;

/// <summary>Line-level rules for a message as received, checked before it is queued.</summary>
public static class MessageContent
{
    // RFC 5322 §2.1.1: at most 998 characters per line, excluding the CRLF.
    const int MaxLineLength = 998;

    public enum Problem
    {
        None,
        /// <summary>A CR not followed by LF, or an LF not preceded by CR (RFC 5321 §2.3.8).</summary>
        BareLineEnd,
        LongLine,
    }

    /// <summary>
    /// Bare CR and bare LF are refused, not repaired: a next hop that reads them as line ends
    /// could find an end of data where this server found none (SMTP smuggling).
    /// </summary>
    public static Problem Check(ReadOnlySequence<byte> content)
    {
        var afterCr = false;
        var lineLength = 0;
        foreach (var segment in content)
        {
            var span = segment.Span;
            while (span.Length > 0)
            {
                if (afterCr)
                {
                    if (span[0] != '\n')
                        return Problem.BareLineEnd;
                    (afterCr, lineLength) = (false, 0);
                    span = span[1..];
                    continue;
                }
                var end = span.IndexOfAny((byte)'\r', (byte)'\n');
                lineLength += end < 0 ? span.Length : end;
                if (lineLength > MaxLineLength)
                    return Problem.LongLine;
                if (end < 0)
                    break;
                if (span[end] == '\n')
                    return Problem.BareLineEnd;
                afterCr = true;
                span = span[(end + 1)..];
            }
        }
        return afterCr ? Problem.BareLineEnd : Problem.None;
    }
}
