using System.Buffers;
using System.Net;
using System.Text;
using ActorMta.Edge;

namespace ActorMta.Tests.Edge;

public sealed class MessageContentTests
{
    [Theory]
    [InlineData("Subject: x\r\n\r\nbody", "None")]
    [InlineData("", "None")]
    [InlineData("a\nb", "BareLineEnd")]
    [InlineData("a\rb", "BareLineEnd")]
    [InlineData("a\r\r\nb", "BareLineEnd")]
    [InlineData("ends with\r", "BareLineEnd")]
    [InlineData("\n", "BareLineEnd")]
    public void lines_must_end_in_crlf(string content, string expected) =>
        Assert.Equal(expected, MessageContent.Check(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(content))).ToString());

    [Fact]
    public void a_line_may_have_998_characters_and_not_999()
    {
        Assert.Equal(MessageContent.Problem.None, MessageContent.Check(Sequence(new string('x', 998) + "\r\n" + new string('y', 998))));
        Assert.Equal(MessageContent.Problem.LongLine, MessageContent.Check(Sequence("a\r\n" + new string('x', 999) + "\r\nb")));
    }

    [Fact]
    public void the_rules_hold_across_buffer_segments()
    {
        Assert.Equal(MessageContent.Problem.None, MessageContent.Check(Sequence("a\r", "\nb")));
        Assert.Equal(MessageContent.Problem.BareLineEnd, MessageContent.Check(Sequence("a\r", "b")));
        Assert.Equal(MessageContent.Problem.LongLine, MessageContent.Check(Sequence(new string('x', 500), new string('x', 499))));
    }

    static ReadOnlySequence<byte> Sequence(params string[] parts)
    {
        var first = new Segment(Encoding.ASCII.GetBytes(parts[0]), 0);
        var last = first;
        foreach (var part in parts.Skip(1))
            last = last.Append(Encoding.ASCII.GetBytes(part));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

public sealed class DnsblNameTests
{
    [Theory]
    [InlineData("192.0.2.99", "99.2.0.192")]
    [InlineData("2001:db8:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2")]
    public void the_query_name_reverses_the_address_as_rfc_5782_says(string address, string expected) =>
        Assert.Equal(expected, DnsblChecker.ReversedName(IPAddress.Parse(address)));
}
