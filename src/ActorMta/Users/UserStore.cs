using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorMta.Users;

/// <summary>
/// One submission user: the login name (normally the user's address), the password hash,
/// and the sender addresses it owns beyond its own ("alias@domain", or "@domain" for all of one).
/// </summary>
public sealed record User(string Name, string PasswordHash, IReadOnlyList<string> Senders);

/// <summary>
/// The users file (<c>&lt;data-dir&gt;/users.json</c>, mode 0600). The command line writes it
/// with a rename, so a running server never sees half a file; the server reads it again
/// whenever it has changed, so users take effect without a restart.
/// </summary>
public sealed class UserStore(string path)
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    readonly Lock _lock = new();
    (DateTime, long) _loadedStamp = (DateTime.MinValue, -1);
    Dictionary<string, User> _byName = new(StringComparer.Ordinal);

    public string Path => path;

    /// <summary>Login names are compared without regard to case.</summary>
    public static string NormalizeName(string name) => name.Trim().ToLowerInvariant();

    /// <summary>The user as the file says now.</summary>
    /// <exception cref="InvalidDataException">The file is not a users file.</exception>
    public User? Find(string name)
    {
        lock (_lock)
        {
            var info = new FileInfo(path);
            var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
            if (stamp != _loadedStamp)
            {
                _byName = Load().ToDictionary(u => u.Name, StringComparer.Ordinal);
                _loadedStamp = stamp;
            }
            return _byName.GetValueOrDefault(NormalizeName(name));
        }
    }

    /// <exception cref="InvalidDataException">The file is not a users file.</exception>
    public IReadOnlyList<User> Load()
    {
        if (!File.Exists(path))
            return [];
        try
        {
            var file = JsonSerializer.Deserialize<UsersFile>(File.ReadAllText(path), Json);
            return file?.Users ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a users file: {e.Message}", e);
        }
    }

    public void Save(IReadOnlyList<User> users)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        // The mode is set only when the file is created: never reuse one left by a crash.
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, new UsersFile([.. users.OrderBy(u => u.Name, StringComparer.Ordinal)]), Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    sealed record UsersFile(IReadOnlyList<User> Users);
}
