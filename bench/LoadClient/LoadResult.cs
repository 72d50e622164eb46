namespace LoadClient;

/// <summary>The JSON line bench/run reads. Times in milliseconds, rates in messages per second.</summary>
/// <param name="Scheduled">Messages whose time came within the duration and the message count.</param>
/// <param name="Seconds">From the start of the schedule to the last reply.</param>
/// <param name="BehindScheduleMs">How late each sent message's transaction started: all sessions busy, or reconnecting.</param>
public sealed record LoadResult(
    double OfferedRate,
    int Connections,
    int Scheduled,
    int Sent,
    int Errors,
    double Seconds,
    double AchievedRate,
    Percentiles LatencyMs,
    Percentiles BehindScheduleMs,
    string? FirstError)
{
    public string Describe() =>
        $"offered {OfferedRate:0.#}/s over {Connections} sessions: {Sent} of {Scheduled} sent in {Seconds:0.##} s ({AchievedRate:0.#}/s), {Errors} errors; "
        + $"latency ms p50 {LatencyMs.P50:0.#} p90 {LatencyMs.P90:0.#} p99 {LatencyMs.P99:0.#} max {LatencyMs.Max:0.#}; "
        + $"behind schedule ms p99 {BehindScheduleMs.P99:0.#} max {BehindScheduleMs.Max:0.#}"
        + (FirstError is null ? "" : $"; first error: {FirstError}");
}

public sealed record Percentiles(double P50, double P90, double P99, double Max)
{
    /// <summary>Nearest-rank percentiles; all zero for no samples.</summary>
    public static Percentiles Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
            return new Percentiles(0, 0, 0, 0);
        double Rank(double p) => Math.Round(sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)], 2);
        return new Percentiles(Rank(0.50), Rank(0.90), Rank(0.99), Math.Round(sorted[^1], 2));
    }
}
