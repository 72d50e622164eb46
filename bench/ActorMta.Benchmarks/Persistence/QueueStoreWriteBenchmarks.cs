using ActorMta.Queue;
using BenchmarkDotNet.Attributes;

namespace ActorMta.Benchmarks.Persistence;

/// <summary>
/// Storing 4 KiB bodies with their index rows, the write every accepted message waits for
/// before its 250. Figures are per message. One writer pays a commit (an fsync) per message;
/// twenty sessions writing at once share commits through the group commit.
/// </summary>
[MemoryDiagnoser]
public class QueueStoreWriteBenchmarks
{
    const int MessagesPerInvoke = 20;

    readonly byte[] _body = SampleMessage.Bytes();
    TempQueue _queue = null!;

    [Params(1, 20)]
    public int Writers { get; set; }

    [GlobalSetup]
    public void Setup() => _queue = new TempQueue();

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public Task StoreBody() => Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Writer(MessagesPerInvoke / Writers)));

    async Task Writer(int messages)
    {
        for (var i = 0; i < messages; i++)
        {
            var now = TimeProvider.System.GetUtcNow();
            await _queue.Accept(QueueIds.Next(now), _body, now, now);
        }
    }
}
