using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using ActorMta.Protocol;

namespace ActorMta.Persistence;

/// <summary>
/// JSON with a short, stable manifest per type. The journal stores the manifest, not the
/// CLR type name, so types can move between namespaces and assemblies without orphaning
/// old events. A manifest, once used, is never given to another type.
/// </summary>
public sealed class ProtocolSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves identifiers below 100.</summary>
    public const int SerializerId = 4711;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    /// <summary>Retired and never to be given to another type: cmd.accept.v1, cmd.abandon.v1, reply.queued.v1, msg.abandoned.v1.</summary>
    static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(WakeMessage)] = "cmd.wake.v1",
        [typeof(MessageAccepted)] = "msg.accepted.v1",
        [typeof(RecipientDelivered)] = "msg.delivered.v1",
        [typeof(RecipientDeferred)] = "msg.deferred.v1",
        [typeof(RecipientFailed)] = "msg.failed.v1",
        [typeof(NoticeSent)] = "msg.notice.v1",
        [typeof(MessageCompleted)] = "msg.completed.v1",
        [typeof(DeliverVia)] = "route.deliver.v1",
        [typeof(RouteAttemptFinished)] = "route.finished.v1",
        [typeof(GetRouteState)] = "route.get-state.v1",
        [typeof(SuspendRoute)] = "route.suspend.v1",
        [typeof(ResumeRoute)] = "route.resume.v1",
        [typeof(RouteState)] = "route.state.v1",
    };

    static readonly IReadOnlyDictionary<string, Type> Types = Manifests.ToDictionary(p => p.Value, p => p.Key);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} has no manifest in {nameof(ProtocolSerializer)}", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        Manifest(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);
    }

    public override object FromBinary(byte[] bytes, string manifest) =>
        Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Json) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest {manifest}: written by a newer ActorMta?");
}
