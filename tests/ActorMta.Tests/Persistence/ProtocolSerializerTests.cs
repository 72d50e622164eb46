using System.Runtime.Serialization;
using Akka.Actor;
using System.Text.Json;
using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Queue;

namespace ActorMta.Tests.Persistence;

/// <summary>One actor system for the whole class: the serializer only needs it to exist.</summary>
public sealed class SerializerSystemFixture : IDisposable
{
    public SerializerSystemFixture()
    {
        System = (ExtendedActorSystem)ActorSystem.Create("t");
        Serializer = new ProtocolSerializer(System);
    }

    public ExtendedActorSystem System { get; }

    public ProtocolSerializer Serializer { get; }

    public void Dispose() => System.Dispose();
}

public sealed class ProtocolSerializerTests(SerializerSystemFixture fixture) : IClassFixture<SerializerSystemFixture>
{
    static readonly DateTimeOffset At = new(2025, 3, 1, 12, 34, 56, 789, TimeSpan.FromHours(2));

    readonly ProtocolSerializer _serializer = fixture.Serializer;

    /// <summary>Every protocol type with the manifest the journal knows it by; these strings must never change.</summary>
    public static TheoryData<string, object> Messages() => new()
    {
        {
            "cmd.wake.v1",
            new WakeMessage("01JNQ0000000ABCD", new MessageAccepted("01JNQ0000000ABCD", "sender@foreign.test", [new RecipientAddress("team@example.test", "alice@example.test")], "[192.0.2.7]", At, 1234))
        },
        {
            "msg.accepted.v1",
            new MessageAccepted(
                "01JNQ0000000ABCD",
                "",
                [new RecipientAddress("team@example.test", "alice@example.test"), new RecipientAddress("Bob+x@example.test", "bob@example.test"), new RecipientAddress("Someone@Foreign.TEST", "Someone@foreign.test", Remote: true)],
                "mx.foreign.test [192.0.2.7]",
                At,
                long.MaxValue)
        },
        { "msg.delivered.v1", new RecipientDelivered(1, At, new AttemptReport("2.0.0", "delivered to maildir x", Relay: "local")) },
        { "msg.deferred.v1", new RecipientDeferred(2, At, At.AddMinutes(5), new AttemptReport("4.4.1", "connection refused", "mx.foreign.test", "mx.foreign.test[192.0.2.25]:25")) },
        { "msg.failed.v1", new RecipientFailed(0, At, new AttemptReport("5.1.1", "user unknown — ünïcode", "mx.foreign.test", "mx.foreign.test[192.0.2.25]:25", "550 5.1.1 <someone@foreign.test>: no such user")) },
        { "msg.notice.v1", new NoticeSent(NoticeKind.LateDelay, [0, 2], "01JNQ0000000ABCDD2", At) },
        { "msg.completed.v1", new MessageCompleted(At) },
        { "route.deliver.v1", new DeliverVia("foreign.test", "01JNQ0000000ABCD", "a1", "sender@example.test", "foreign.test", [new OutboundRecipient(2, "someone@foreign.test")], At) },
        {
            "route.finished.v1",
            new RouteAttemptFinished("01JNQ0000000ABCD", "a1", [
                new DeliveryOutcome.Delivered(0, new AttemptReport("2.0.0", "mx said: 250 ok", "mx.foreign.test", "mx.foreign.test[192.0.2.25]:25", "250 ok")),
                new DeliveryOutcome.TemporaryFailure(1, new AttemptReport("4.2.1", "busy")),
                new DeliveryOutcome.PermanentFailure(2, new AttemptReport("5.1.1", "no such user"))])
        },
        { "route.get-state.v1", new GetRouteState("foreign.test") },
        { "route.suspend.v1", new SuspendRoute("foreign.test", TimeSpan.FromMinutes(30), "their postmaster asked for a pause") },
        { "route.resume.v1", new ResumeRoute("foreign.test") },
        {
            "route.state.v1",
            new RouteState("foreign.test", new RouteLimits(20, 5, 100, 100, 600, 0, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), 5, TimeSpan.FromMinutes(5)),
                3, 2, 10, 2, 1, At, null, "421 4.7.0 slow down", 4, 40)
        },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void protocol_message_has_its_stable_manifest(string manifest, object message)
    {
        Assert.Equal(manifest, _serializer.Manifest(message));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void protocol_message_survives_the_journal_round_trip(string manifest, object message)
    {
        var bytes = _serializer.ToBinary(message);
        var back = _serializer.FromBinary(bytes, manifest);

        Assert.IsType(message.GetType(), back);
        switch (message)
        {
            case MessageAccepted a:
                var m = (MessageAccepted)back;
                Assert.Equal(a.Recipients, m.Recipients);
                Assert.Equal(a with { Recipients = Array.Empty<RecipientAddress>() }, m with { Recipients = Array.Empty<RecipientAddress>() });
                break;
            case NoticeSent n:
                var sent = (NoticeSent)back;
                Assert.Equal(n.Recipients, sent.Recipients);
                Assert.Equal(n with { Recipients = Array.Empty<int>() }, sent with { Recipients = Array.Empty<int>() });
                break;
            case DeliverVia or RouteAttemptFinished or WakeMessage:
                // Lists inside, and outcomes whose kind travels as a discriminator.
                Assert.Equal(JsonSerializer.Serialize(message, message.GetType()), JsonSerializer.Serialize(back, back.GetType()));
                break;
            default:
                Assert.Equal(message, back);
                break;
        }
    }

    [Fact]
    public void every_protocol_type_is_covered_by_a_manifest()
    {
        var protocolTypes = typeof(IProtocolMessage).Assembly.GetTypes()
            .Where(t => typeof(IProtocolMessage).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
            .ToHashSet();
        var covered = Messages().Select(row => row[1].GetType()).ToHashSet();

        Assert.Equal(protocolTypes.OrderBy(t => t.FullName), covered.OrderBy(t => t.FullName));
    }

    [Fact]
    public void manifests_are_distinct()
    {
        var manifests = Messages().Select(row => (string)row[0]).ToList();

        Assert.Equal(manifests.Count, manifests.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void times_keep_their_utc_offset()
    {
        var back = (RecipientDeferred)_serializer.FromBinary(_serializer.ToBinary(new RecipientDeferred(0, At, At.AddHours(1), new AttemptReport("4.0.0", "later"))), "msg.deferred.v1");

        Assert.Equal(TimeSpan.FromHours(2), back.At.Offset);
        Assert.Equal(At.AddHours(1).UtcTicks, back.NextAttemptAt.UtcTicks);
    }

    [Fact]
    public void an_expired_failure_stays_expired_and_an_old_failure_without_the_flag_reads_as_a_bounce()
    {
        var expired = new RecipientFailed(3, At, new AttemptReport("4.4.7", "delivery time expired"), Expired: true);

        Assert.Equal(expired, _serializer.FromBinary(_serializer.ToBinary(expired), "msg.failed.v1"));
        var bounce = (RecipientFailed)_serializer.FromBinary(
            """{"Index":0,"At":"2025-03-01T12:34:56.789+02:00","Report":{"Dsn":"5.1.1","Text":"user unknown"}}"""u8.ToArray(), "msg.failed.v1");
        Assert.Equal(new RecipientFailed(0, At, new AttemptReport("5.1.1", "user unknown")), bounce);
    }

    [Fact]
    public void unknown_manifest_is_refused()
    {
        var bytes = _serializer.ToBinary(new WakeMessage("01JNQ0000000ABCD"));

        var e = Assert.Throws<SerializationException>(() => _serializer.FromBinary(bytes, "msg.bounced.v9"));

        Assert.Contains("msg.bounced.v9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void type_without_a_manifest_is_refused()
    {
        Assert.Throws<ArgumentException>(() => _serializer.Manifest("not a protocol message"));
        Assert.Throws<ArgumentException>(() => _serializer.ToBinary(new Uri("https://example.test")));
    }

    [Fact]
    public void serializer_id_is_outside_the_range_akka_reserves()
    {
        Assert.True(_serializer.Identifier >= 100);
        Assert.Equal(ProtocolSerializer.SerializerId, _serializer.Identifier);
    }
}
