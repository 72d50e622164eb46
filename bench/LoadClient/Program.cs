using System.Text.Json;
using LoadClient;

// An open-loop SMTP load generator for bench/run: message i is due at start + i / rate, whatever
// happened to the messages before it, so a slow server shows up as latency and as the client
// falling behind schedule rather than as a lower offered rate. One JSON line on stdout, one
// line for people on stderr.
if (Options.Parse(args) is not { } options)
{
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

LoadResult result;
try
{
    result = await new LoadRun(options).RunAsync();
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // Only the warm-up lets an exception out: the server is not there or refuses everything.
    Console.Error.WriteLine($"loadclient: {e.GetBaseException().Message}");
    return 1;
}

Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
Console.Error.WriteLine(result.Describe());
return result.Sent > 0 ? 0 : 1;
