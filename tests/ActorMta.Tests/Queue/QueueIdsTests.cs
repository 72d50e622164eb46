using ActorMta.Queue;

namespace ActorMta.Tests.Queue;

public sealed class QueueIdsTests
{
    const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    static UInt128 Decode(string id)
    {
        UInt128 value = 0;
        foreach (var c in id)
            value = (value << 5) | (uint)Crockford.IndexOf(c, StringComparison.Ordinal);
        return value;
    }

    [Fact]
    public void queue_id_is_sixteen_crockford_base32_symbols()
    {
        for (var i = 0; i < 1000; i++)
        {
            var id = QueueIds.Next(DateTimeOffset.UtcNow);
            Assert.Equal(16, id.Length);
            Assert.All(id, c => Assert.Contains(c, Crockford));
        }
    }

    [Fact]
    public void queue_id_carries_the_arrival_millisecond_in_its_high_bits()
    {
        var id = QueueIds.Next(T0.AddTicks(4321));

        Assert.Equal((UInt128)(ulong)T0.ToUnixTimeMilliseconds(), Decode(id) >> 32);
    }

    [Fact]
    public void queue_ids_are_unique_over_ten_thousand_messages()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 10_000; i++)
            ids.Add(QueueIds.Next(DateTimeOffset.UtcNow));

        Assert.Equal(10_000, ids.Count);
    }

    [Fact]
    public void queue_ids_of_one_millisecond_differ_in_their_random_part()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => QueueIds.Next(T0)).ToList();

        Assert.Single(ids.Select(id => Decode(id) >> 32).Distinct());
        Assert.Equal(100, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void queue_ids_sort_by_arrival_time()
    {
        var times = new[]
        {
            T0,
            T0.AddMilliseconds(1),
            T0.AddMilliseconds(2),
            T0.AddSeconds(1),
            T0.AddMinutes(1),
            T0.AddDays(1),
            T0.AddYears(30),
        };
        // Several ids per time, in random order of generation within each time.
        var ids = times.SelectMany((t, rank) => Enumerable.Range(0, 20).Select(_ => (Rank: rank, Id: QueueIds.Next(t)))).ToList();

        var sorted = ids.OrderBy(x => x.Id, StringComparer.Ordinal).Select(x => x.Rank).ToList();

        Assert.Equal(ids.Select(x => x.Rank).Order(), sorted);
    }

    [Fact]
    public void queue_ids_from_a_later_clock_reading_sort_later()
    {
        var earlier = QueueIds.Next(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var later = QueueIds.Next(new DateTimeOffset(2025, 1, 1, 2, 0, 0, TimeSpan.FromHours(1)));

        Assert.True(string.CompareOrdinal(earlier, later) < 0, $"{earlier} should sort before {later}");
    }
}
