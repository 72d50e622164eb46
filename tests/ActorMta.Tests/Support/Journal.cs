using Microsoft.Data.Sqlite;

namespace ActorMta.Tests.Support;

/// <summary>Reads a message's journal straight from the SQLite file, as an operator would.</summary>
static class Journal
{
    /// <returns>The manifests of the message's events in order; none when the journal was never created.</returns>
    public static List<string> Manifests(string journalPath, string queueId)
    {
        var manifests = new List<string>();
        if (!File.Exists(journalPath))
            return manifests;
        using var connection = new SqliteConnection($"Data Source={journalPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using (var exists = connection.CreateCommand())
        {
            exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'event_journal'";
            if ((long)exists.ExecuteScalar()! == 0)
                return manifests;
        }
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT manifest FROM event_journal WHERE persistence_id = $id ORDER BY sequence_nr";
        command.Parameters.AddWithValue("$id", "message-" + queueId);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            manifests.Add(reader.GetString(0));
        return manifests;
    }
}
