using Akka.Cluster.Sharding;
using ActorMta.Protocol;

namespace ActorMta.Queue;

/// <summary>Routes every <see cref="IMessageCommand"/> to the entity named by its queue id.</summary>
public sealed class MessageShardExtractor(int shards) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) => (message as IMessageCommand)?.QueueId;
}
