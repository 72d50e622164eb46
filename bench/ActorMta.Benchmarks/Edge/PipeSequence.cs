using System.Buffers;

namespace ActorMta.Benchmarks.Edge;

/// <summary>
/// Bytes laid out as a <see cref="System.IO.Pipelines.Pipe"/> hands them over: 4 KiB segments,
/// the first partly taken by the commands that came before DATA.
/// </summary>
static class PipeSequence
{
    const int SegmentSize = 4096;

    public static ReadOnlySequence<byte> Of(byte[] data, int usedInFirstSegment = 1024)
    {
        var first = new Segment(data.AsMemory(0, Math.Min(data.Length, SegmentSize - usedInFirstSegment)), 0);
        var last = first;
        for (var offset = first.Memory.Length; offset < data.Length; offset += SegmentSize)
            last = last.Append(data.AsMemory(offset, Math.Min(SegmentSize, data.Length - offset)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
