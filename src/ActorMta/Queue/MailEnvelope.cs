namespace ActorMta.Queue;

/// <summary>What the SMTP transaction said about a message, before aliases are expanded.</summary>
/// <param name="Recipients">The addresses as given at RCPT.</param>
/// <param name="Client">The client as logged: name[address].</param>
public sealed record MailEnvelope(string QueueId, string Sender, IReadOnlyList<string> Recipients, string Client, DateTimeOffset ReceivedAt, long Size);
