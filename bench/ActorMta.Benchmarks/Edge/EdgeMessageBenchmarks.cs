using ActorMta.Config;
using System.Buffers;
using System.Net;
using System.Text;
using ActorMta.Edge;
using ActorMta.Queue;
using BenchmarkDotNet.Attributes;
using SmtpServer.Mail;

namespace ActorMta.Benchmarks.Edge;

/// <summary>
/// What the edge does with one 4 KiB message once SmtpServer hands over the content, up to
/// the queue write (<see cref="QueueingMessageStore"/>.SaveAsync): the pieces, and all of
/// them in the order SaveAsync runs them.
/// </summary>
[MemoryDiagnoser]
public class EdgeMessageBenchmarks
{
    const string Hostname = "mx.example.test";
    const string SampleQueueId = "01JNQ0000000ABCD";
    static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    readonly BenchSession _session = new(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 40123), "client.foreign.test");
    readonly IMailbox _from = new Mailbox("sender", "foreign.test");
    readonly IReadOnlyList<IMailbox> _to = [new Mailbox("admin", "example.test")];
    readonly IReadOnlyList<string> _recipients = ["admin@example.test"];

    /// <summary>The default configuration's directory: example.test with its admin mailbox and aliases.</summary>
    static readonly RecipientDirectory Directory = ActorMtaSettings.From(ActorMtaConfiguration.FromText("")).Recipients;

    // As SmtpServer hands it over: behind the CRLF that SmtpInputFilter inserts, without the final CRLF.
    ReadOnlySequence<byte> _handedOver;
    // The message proper, as the content check and the body copy see it.
    ReadOnlySequence<byte> _content;
    byte[] _header = [];

    [GlobalSetup]
    public void Setup()
    {
        var message = SampleMessage.Bytes();
        _handedOver = PipeSequence.Of([.. "\r\n"u8, .. message.AsSpan(0, message.Length - 2)]);
        _content = _handedOver.Slice(2);
        _header = ReceivedHeader();

        var body = WholeMessage();
        if (MessageContent.Check(_content) != MessageContent.Problem.None || !body.AsSpan(_header.Length).SequenceEqual(message))
            throw new InvalidOperationException("the sample message does not come through the edge unchanged");
        // The session must read as an EHLO client with an address, or the header is not the usual one.
        var received = Encoding.ASCII.GetString(_header);
        if (!received.StartsWith("Received: from client.foreign.test ([192.0.2.7])", StringComparison.Ordinal) || !received.Contains(" with ESMTP id ", StringComparison.Ordinal))
            throw new InvalidOperationException($"unexpected Received header: {received}");
    }

    /// <summary>A new queue id: 48 bits of time and 32 from the system's secure random source (QueueIds.Next).</summary>
    [Benchmark]
    public string QueueId() => QueueIds.Next(Now);

    /// <summary>Bare CR/LF and line length over the whole content (MessageContent.Check).</summary>
    [Benchmark]
    public MessageContent.Problem ContentCheck() => MessageContent.Check(_content);

    /// <summary>The trace header for one recipient (ReceivedHeader.For).</summary>
    [Benchmark]
    public byte[] ReceivedHeader() => ActorMta.Edge.ReceivedHeader.For(_session, Hostname, SampleQueueId, _recipients, Now);

    /// <summary>Header, content and the CRLF SmtpServer kept back, copied into the body to be queued.</summary>
    [Benchmark]
    public byte[] AssembleBody()
    {
        var body = new byte[_header.Length + _content.Length + 2];
        _header.CopyTo(body, 0);
        _content.CopyTo(body.AsSpan(_header.Length));
        "\r\n"u8.CopyTo(body.AsSpan(body.Length - 2));
        return body;
    }

    /// <summary>
    /// SaveAsync's steps up to StoreAsync, alias expansion included, for a plain-text client that is not authenticated
    /// (the From ownership check runs only for submission users). Keep in step with
    /// src/ActorMta/Edge/QueueingMessageStore.cs.
    /// </summary>
    [Benchmark]
    public byte[] WholeMessage()
    {
        var now = TimeProvider.System.GetUtcNow();
        var queueId = QueueIds.Next(now);
        var sender = _from.Text();
        var recipients = _to.Select(r => r.Text()).ToList();
        var client = _session.ClientText();

        var buffer = _handedOver;
        if (buffer.Length >= 2 && buffer.Slice(0, 2).ToArray() is [(byte)'\r', (byte)'\n'])
            buffer = buffer.Slice(2);
        var trailer = buffer.IsEmpty ? 0 : 2;
        if (MessageContent.Check(buffer) != MessageContent.Problem.None)
            throw new InvalidOperationException("refused");

        var header = ActorMta.Edge.ReceivedHeader.For(_session, Hostname, queueId, recipients, now);
        var body = new byte[header.Length + buffer.Length + trailer];
        header.CopyTo(body, 0);
        buffer.CopyTo(body.AsSpan(header.Length));
        "\r\n"u8[..trailer].CopyTo(body.AsSpan(body.Length - trailer));
        _ = MessageState.Accept(new MailEnvelope(queueId, sender, recipients, client, now, body.Length), Directory);
        return body;
    }
}
