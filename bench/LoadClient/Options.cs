using System.Globalization;

namespace LoadClient;

/// <summary>What to send, where, and how fast. Every run is bounded by both a message count and a duration.</summary>
public sealed record Options
{
    public const string Usage = """
        usage: loadclient --rate MSG_PER_S [options]
          --host ADDRESS        SMTP server (default 127.0.0.1)
          --port PORT           (default 25)
          --from ADDRESS        envelope sender (default sender@example.test)
          --to ADDRESS          envelope recipient (default user@example.test)
          --size BYTES          body size, headers not counted, as smtp-source -l (default 4096)
          --rate MSG_PER_S      offered rate: message i is due at start + i / rate (required)
          --connections N       SMTP sessions, reused (default 20)
          --per-session N       messages per session before it is closed and reopened (default 100)
          --warmup N            unmeasured messages per session before the clock starts (default 1)
          --messages N          at most this many messages (default 1000000)
          --duration SECONDS    schedule no message due later than this (default 20)
        Latency is from MAIL FROM to the reply to the end of DATA; connecting is not counted in it,
        but shows in how far behind schedule each transaction started.
        """;

    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 25;
    public string From { get; init; } = "sender@example.test";
    public string To { get; init; } = "user@example.test";
    public int Size { get; init; } = 4096;
    public double Rate { get; init; }
    public int Connections { get; init; } = 20;
    public int PerSession { get; init; } = 100;
    public int Warmup { get; init; } = 1;
    public int Messages { get; init; } = 1_000_000;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <returns>Null, after saying why on stderr, when the arguments make no sense.</returns>
    public static Options? Parse(IReadOnlyList<string> args)
    {
        if (args.Any(a => a is "-h" or "--help"))
            return null;
        var options = new Options();
        if (args.Count % 2 != 0)
            return Fail($"{args[^1]} needs a value");
        for (var i = 0; i < args.Count; i += 2)
        {
            var (name, value) = (args[i], args[i + 1]);
            Options? parsed;
            try
            {
                parsed = name switch
                {
                    "--host" => options with { Host = value },
                    "--port" => options with { Port = Int(value) },
                    "--from" => options with { From = value },
                    "--to" => options with { To = value },
                    "--size" => options with { Size = Int(value) },
                    "--rate" => options with { Rate = double.Parse(value, CultureInfo.InvariantCulture) },
                    "--connections" => options with { Connections = Int(value) },
                    "--per-session" => options with { PerSession = Int(value) },
                    "--warmup" => options with { Warmup = Int(value) },
                    "--messages" => options with { Messages = Int(value) },
                    "--duration" => options with { Duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                    _ => null,
                };
            }
            catch (FormatException)
            {
                return Fail($"{name}: {value} is not a number");
            }
            if (parsed is null)
                return Fail($"unknown option {name}");
            options = parsed;
        }
        if (options.Rate <= 0 || options.Connections < 1 || options.PerSession < 1 || options.Warmup < 0
            || options.Messages < 1 || options.Size < 0 || options.Duration <= TimeSpan.Zero)
        {
            return Fail("--rate, --connections, --per-session, --messages and --duration must be positive, --size and --warmup not negative");
        }
        return options;
    }

    static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);

    static Options? Fail(string message)
    {
        Console.Error.WriteLine($"loadclient: {message}");
        return null;
    }
}
