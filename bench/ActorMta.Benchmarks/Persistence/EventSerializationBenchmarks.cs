using Akka.Actor;
using ActorMta.Persistence;
using ActorMta.Protocol;
using BenchmarkDotNet.Attributes;

namespace ActorMta.Benchmarks.Persistence;

/// <summary>
/// The journal's events through <see cref="ProtocolSerializer"/>: every accepted message
/// writes one MessageAccepted and one event per delivery attempt per recipient.
/// </summary>
[MemoryDiagnoser]
public class EventSerializationBenchmarks
{
    static readonly DateTimeOffset At = new(2025, 3, 1, 12, 34, 56, 789, TimeSpan.Zero);

    static readonly IReadOnlyDictionary<string, IMessageEvent> Events = new Dictionary<string, IMessageEvent>
    {
        ["Accepted1"] = Accepted(1),
        ["Accepted10"] = Accepted(10),
        ["Delivered"] = new RecipientDelivered(0, At, new AttemptReport("2.0.0", "250 2.0.0 Ok: queued as 4XyZ1", "mx.foreign.test", "mx.foreign.test[192.0.2.25]:25")),
        ["Deferred"] = new RecipientDeferred(3, At, At.AddMinutes(5),
            new AttemptReport("4.4.1", "connect to mx.foreign.test[192.0.2.25]:25: Connection refused", "mx.foreign.test", "mx.foreign.test[192.0.2.25]:25")),
    };

    ActorSystem _system = null!;
    ProtocolSerializer _serializer = null!;
    object _event = null!;
    byte[] _bytes = [];
    string _manifest = "";

    [ParamsSource(nameof(EventNames))]
    public string Event { get; set; } = "";

    public static IEnumerable<string> EventNames => Events.Keys;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _serializer = new ProtocolSerializer((ExtendedActorSystem)_system);
        _event = Events[Event];
        _bytes = _serializer.ToBinary(_event);
        _manifest = _serializer.Manifest(_event);
        // Records holding lists do not compare by value; the bytes do.
        if (!_serializer.ToBinary(_serializer.FromBinary(_bytes, _manifest)).AsSpan().SequenceEqual(_bytes))
            throw new InvalidOperationException($"{Event} does not survive a round trip");
        Console.WriteLine($"// {Event}: {_bytes.Length} bytes as {_manifest}");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Dispose();

    [Benchmark]
    public byte[] ToBinary() => _serializer.ToBinary(_event);

    [Benchmark]
    public object FromBinary() => _serializer.FromBinary(_bytes, _manifest);

    static MessageAccepted Accepted(int recipients) => new(
        "01JNQ0000000ABCD",
        "sender@foreign.test",
        [.. Enumerable.Range(1, recipients).Select(i => new RecipientAddress($"user{i}@example.test", $"user{i}@example.test"))],
        "[192.0.2.7]:40123",
        At,
        4242);
}
