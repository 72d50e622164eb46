using System.Text.Json;
using Akka.Configuration;

namespace ActorMta.Config;

/// <summary>
/// Reads the configuration in layers: the documented defaults
/// (<c>hocon/actormta.conf</c>), then the operator's file, then environment
/// variables. The layers are parsed as one HOCON document so that objects merge
/// key by key and lists are replaced, exactly as HOCON defines.
/// </summary>
public static class ActorMtaConfiguration
{
    /// <summary>Environment variables that override a key, for values that differ per machine or pod.</summary>
    public static readonly IReadOnlyDictionary<string, string> EnvironmentOverrides = new Dictionary<string, string>
    {
        ["ACTORMTA_HOSTNAME"] = "actormta.hostname",
        ["ACTORMTA_DATA_DIR"] = "actormta.data-dir",
        ["ACTORMTA_SMTP_ADDRESS"] = "actormta.smtp.address",
        ["ACTORMTA_SMTP_PORT"] = "actormta.smtp.port",
        ["ACTORMTA_HOLD"] = "actormta.queue.hold",
    };

    public static string DefaultsText()
    {
        using var stream = typeof(ActorMtaConfiguration).Assembly.GetManifestResourceStream("ActorMta.actormta.conf")
            ?? throw new InvalidOperationException("The embedded defaults (hocon/actormta.conf) are missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <param name="overlayFiles">Operator files, applied in order after the defaults.</param>
    /// <param name="environment">Variables to consult; null reads the process environment.</param>
    public static Akka.Configuration.Config Load(IEnumerable<string> overlayFiles, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var layers = new List<string> { DefaultsText() };
        foreach (var file in overlayFiles)
        {
            if (!File.Exists(file))
                throw new SettingsException($"configuration file {file} does not exist");
            layers.Add(File.ReadAllText(file));
        }
        try
        {
            // The variables are a layer of their own, so that a broken file cannot swallow them.
            return ConfigurationFactory.ParseString(EnvironmentLayer(environment))
                .WithFallback(ConfigurationFactory.ParseString(string.Join("\n", layers)));
        }
        catch (Exception e) when (e is not SettingsException)
        {
            throw new SettingsException($"configuration does not parse: {e.Message}");
        }
    }

    /// <summary>Parses one HOCON text over the defaults (tests and tools).</summary>
    public static Akka.Configuration.Config FromText(string overlay) =>
        ConfigurationFactory.ParseString(DefaultsText() + "\n" + overlay);

    static string EnvironmentLayer(IReadOnlyDictionary<string, string?>? environment)
    {
        var lines = new List<string>();
        foreach (var (variable, key) in EnvironmentOverrides)
        {
            var value = environment is null ? Environment.GetEnvironmentVariable(variable) : environment.GetValueOrDefault(variable);
            if (!string.IsNullOrEmpty(value))
                lines.Add($"{key} = {JsonSerializer.Serialize(value)}");
        }
        return string.Join("\n", lines);
    }
}

/// <summary>A configuration the server must not start with; the message says what to fix.</summary>
public sealed class SettingsException(string message) : Exception(message);
