using ActorMta.Config;
using ActorMta.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// actormta [--config FILE]...   runs one node with the documented defaults and the given overlays.
var overlays = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--config" && i + 1 < args.Length)
        overlays.Add(args[++i]);
    else if (args[i] is "-h" or "--help")
    {
        Console.WriteLine("usage: actormta [--config FILE]...\n  Runs ActorMta with hocon/actormta.conf overlaid by each FILE in order; environment variables ACTORMTA_* override both.");
        return 0;
    }
    else
    {
        Console.Error.WriteLine($"actormta: unknown argument {args[i]} (try --help)");
        return 2;
    }
}

Akka.Configuration.Config config;
ActorMtaSettings settings;
try
{
    config = ActorMtaConfiguration.Load(overlays);
    settings = ActorMtaSettings.From(config);
}
catch (SettingsException e)
{
    Console.Error.WriteLine($"actormta: refusing to start: {e.Message}");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Services.AddActorMta(settings, config);
await builder.Build().RunAsync();
return 0;
