namespace ActorMta.Config;

/// <summary>A local domain with its mailboxes and aliases (local parts in lower case).</summary>
/// <param name="Lmtp">The mailbox server that takes this domain's mail over LMTP ("host:port" or "unix:/path"); null for Maildir.</param>
public sealed record LocalDomain(string Name, IReadOnlySet<string> Mailboxes, IReadOnlyDictionary<string, IReadOnlyList<string>> Aliases, string? Lmtp = null);

/// <summary>What the directory knows of one envelope recipient.</summary>
public abstract record RecipientLookup
{
    /// <summary>The domain is not ours: delivering there is relaying.</summary>
    public sealed record Foreign : RecipientLookup;

    /// <summary>The domain is ours but nobody receives mail at this local part.</summary>
    public sealed record UnknownUser : RecipientLookup;

    /// <summary>The mailboxes (full addresses) that receive the mail, aliases expanded.</summary>
    public sealed record Local(IReadOnlyList<string> Mailboxes) : RecipientLookup;
}

/// <summary>Local domains, mailboxes and aliases: who this server receives mail for.</summary>
public sealed class RecipientDirectory
{
    const int MaxAliasDepth = 10;
    readonly Dictionary<string, LocalDomain> _domains;
    readonly string _delimiter;

    /// <param name="domains">In configuration order; the first is the primary domain.</param>
    public RecipientDirectory(IReadOnlyList<LocalDomain> domains, string recipientDelimiter)
    {
        _domains = domains.ToDictionary(d => d.Name, StringComparer.Ordinal);
        _delimiter = recipientDelimiter;
        PrimaryDomain = domains[0].Name;
    }

    public IReadOnlyCollection<LocalDomain> Domains => _domains.Values;

    /// <summary>The first configured local domain: where mail to a bare "postmaster" goes.</summary>
    public string PrimaryDomain { get; }

    public bool IsLocalDomain(string domain) => _domains.ContainsKey(MailAddress.NormalizeDomain(domain));

    /// <summary>The LMTP server of a local domain, or null when its mail goes to Maildir.</summary>
    public string? LmtpFor(string domain) => _domains.TryGetValue(MailAddress.NormalizeDomain(domain), out var d) ? d.Lmtp : null;

    /// <summary>
    /// The local part is compared literally (apart from case): '%', '!' and quoted '@'
    /// are never interpreted, so such addresses cannot route mail anywhere else.
    /// </summary>
    public RecipientLookup Lookup(string localPart, string domainName)
    {
        if (!_domains.TryGetValue(MailAddress.NormalizeDomain(domainName), out var domain))
            return new RecipientLookup.Foreign();
        var local = localPart.ToLowerInvariant();
        if (!Knows(domain, local) && _delimiter.Length > 0)
        {
            var cut = local.IndexOf(_delimiter, StringComparison.Ordinal);
            if (cut > 0)
                local = local[..cut];
        }
        if (!Knows(domain, local))
            return new RecipientLookup.UnknownUser();
        var mailboxes = new List<string>();
        Expand(domain, local, mailboxes, depth: 0);
        return new RecipientLookup.Local(mailboxes.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>Refuses a directory with dangling aliases, alias loops, or a domain without postmaster and abuse.</summary>
    public void Validate()
    {
        foreach (var domain in _domains.Values)
        {
            foreach (var required in new[] { "postmaster", "abuse" })
            {
                if (!Knows(domain, required))
                    throw new SettingsException(
                        $"local domain {domain.Name} has no \"{required}\": add it as a mailbox or an alias (actormta.domains.\"{domain.Name}\")");
            }
            foreach (var alias in domain.Aliases.Keys)
                Expand(domain, alias, [], depth: 0);
        }
    }

    static bool Knows(LocalDomain domain, string local) => domain.Mailboxes.Contains(local) || domain.Aliases.ContainsKey(local);

    void Expand(LocalDomain domain, string local, List<string> into, int depth)
    {
        if (depth > MaxAliasDepth)
            throw new SettingsException($"alias {local}@{domain.Name} nests more than {MaxAliasDepth} deep (a loop?)");
        if (domain.Mailboxes.Contains(local))
        {
            into.Add(MailAddress.Format(local, domain.Name));
            return;
        }
        foreach (var target in domain.Aliases[local])
        {
            var (targetLocal, targetDomain) = target.Contains('@', StringComparison.Ordinal)
                ? MailAddress.Split(target)
                : (target, domain.Name);
            if (!_domains.TryGetValue(MailAddress.NormalizeDomain(targetDomain), out var next) || !Knows(next, targetLocal.ToLowerInvariant()))
                throw new SettingsException($"alias {local}@{domain.Name} points at {target}, which is not a local mailbox or alias");
            Expand(next, targetLocal.ToLowerInvariant(), into, depth + 1);
        }
    }
}
