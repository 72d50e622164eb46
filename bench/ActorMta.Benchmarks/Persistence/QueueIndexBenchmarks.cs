using ActorMta.Persistence;
using ActorMta.Queue;
using BenchmarkDotNet.Attributes;

namespace ActorMta.Benchmarks.Persistence;

/// <summary>
/// The queue index as the scheduler and the message actors use it, on a queue of 5,000
/// messages: claiming a batch of due rows, rescheduling one after a deferral, removing one
/// that is done. Each call is one group-committed transaction of its own.
/// </summary>
[MemoryDiagnoser]
// A fixed count, so that each iteration of Remove has exactly as many rows set aside as it deletes.
[InvocationCount(Invocations)]
public class QueueIndexBenchmarks
{
    const int Invocations = 100;
    const int QueuedMessages = 5_000;
    // QueueScheduler's batch size.
    const int ClaimBatch = 500;
    static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    readonly byte[] _body = SampleMessage.Bytes();
    readonly Queue<string> _toRemove = new();
    TempQueue _queue = null!;
    string[] _queued = [];
    int _next;
    DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _queue = new TempQueue();
        // Due one millisecond apart, oldest first, as they would have arrived.
        _queued = [.. Enumerable.Range(0, QueuedMessages).Select(i => QueueIds.Next(T0.AddMilliseconds(i)))];
        Task.WhenAll(_queued.Select((id, i) => _queue.Accept(id, _body, T0.AddMilliseconds(i), T0.AddMilliseconds(i)))).GetAwaiter().GetResult();
        _now = T0.AddMilliseconds(QueuedMessages);
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [IterationSetup(Target = nameof(Remove))]
    public void SetAsideForRemoval()
    {
        var ids = Enumerable.Range(0, Invocations).Select(_ => QueueIds.Next(_now)).ToList();
        Task.WhenAll(ids.Select(id => _queue.Accept(id, _body, _now, _now.AddHours(1)))).GetAwaiter().GetResult();
        foreach (var id in ids)
            _toRemove.Enqueue(id);
    }

    /// <summary>
    /// A poll of the scheduler that finds a full batch. The lease ends at once, so the rows just
    /// claimed go to the back and the next poll finds the next 500.
    /// </summary>
    [Benchmark]
    public async Task<int> ClaimDue()
    {
        _now = _now.AddSeconds(1);
        var claimed = await _queue.Store.ClaimDueAsync(_now, _now, ClaimBatch);
        return claimed.Count == ClaimBatch ? claimed.Count : throw new InvalidOperationException($"claimed {claimed.Count}");
    }

    /// <summary>A deferral: the message is due again in five minutes.</summary>
    [Benchmark]
    public Task Reschedule() => _queue.Store.RescheduleAsync(_queued[_next++ % _queued.Length], _now.AddMinutes(5), QueueStore.Deferred);

    /// <summary>A message done with: its body and index row go.</summary>
    [Benchmark]
    public Task Remove() => _queue.Store.RemoveAsync(_toRemove.Dequeue());
}
