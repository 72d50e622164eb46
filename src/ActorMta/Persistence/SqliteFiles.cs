using Microsoft.Data.Sqlite;

namespace ActorMta.Persistence;

static class SqliteFiles
{
    /// <summary>
    /// WAL lets readers run beside the writer and commits faster; it is a property of the
    /// file, set once. Synchronous stays FULL (the default) so a commit survives power loss.
    /// </summary>
    public static void EnableWriteAheadLog(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        command.ExecuteNonQuery();
    }
}
