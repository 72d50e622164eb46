using System.Text;
using ActorMta.Config;
using ActorMta.Hosting;
using ActorMta.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// actormta [--config FILE]...                runs one node with the documented defaults and the given overlays.
// actormta user SUBCOMMAND ... [--config FILE]  manages the submission users (see UserCommand.Usage).
var overlays = new List<string>();
var rest = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--config" && i + 1 < args.Length)
        overlays.Add(args[++i]);
    else if (args[i] is "-h" or "--help")
    {
        Console.WriteLine("usage: actormta [--config FILE]...\n  Runs ActorMta with hocon/actormta.conf overlaid by each FILE in order; environment variables ACTORMTA_* override both.\n");
        Console.WriteLine(UserCommand.Usage);
        return 0;
    }
    else
        rest.Add(args[i]);
}
var userCommand = rest is ["user", ..];
if (rest.Count > 0 && !userCommand)
{
    Console.Error.WriteLine($"actormta: unknown argument {rest[0]} (try --help)");
    return 2;
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

if (userCommand)
    return UserCommand.Run(rest[1..], new UserStore(settings.UsersFilePath), settings.Recipients, ReadPassword, Console.Out, Console.Error);

var builder = Host.CreateApplicationBuilder();
builder.Services.AddActorMta(settings, config);
await builder.Build().RunAsync();
return 0;

// From a terminal: a prompt and no echo. Piped: one line per call (a missing second line skips the confirmation).
static string? ReadPassword(string prompt)
{
    if (Console.IsInputRedirected)
        return Console.In.ReadLine();
    Console.Error.Write(prompt);
    var password = new StringBuilder();
    while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
    {
        if (key.Key == ConsoleKey.Backspace)
            password.Length = Math.Max(0, password.Length - 1);
        else if (!char.IsControl(key.KeyChar))
            password.Append(key.KeyChar);
    }
    Console.Error.WriteLine();
    return password.ToString();
}
