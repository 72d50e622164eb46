namespace ActorMta.Tests.Support;

/// <summary>Debian puts daemons in /usr/sbin, which a CI user's PATH may lack.</summary>
static class SystemTool
{
    public static string Find(string name) =>
        new[] { "/usr/sbin", "/usr/bin" }.Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists) ?? name;
}
