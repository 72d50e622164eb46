using ActorMta.Config;

namespace ActorMta.Users;

/// <summary>
/// <c>actormta user add|passwd|senders|remove|list</c>: manages the submission users in the
/// users file. Passwords are read from the terminal (twice, without echo) or, when standard
/// input is not a terminal, from its first line; they never appear on the command line.
/// </summary>
public static class UserCommand
{
    const int MinPasswordLength = 8;

    public const string Usage = """
        usage: actormta user add NAME [--sender ADDRESS|@DOMAIN]...   new user; asks for the password
               actormta user passwd NAME                               new password
               actormta user senders NAME [ADDRESS|@DOMAIN]...         replaces the extra sender addresses
               actormta user remove NAME
               actormta user list
          NAME is the login, normally the user's address; it may always send as NAME itself and as
          the local aliases that reach it. --config FILE (before or after) selects the configuration.
        """;

    /// <param name="readPassword">Asks for a password with the given prompt; null when none was given.</param>
    /// <param name="iterations">PBKDF2 iterations for new hashes (tests use fewer).</param>
    public static int Run(IReadOnlyList<string> args, UserStore store, RecipientDirectory directory, Func<string, string?> readPassword,
        TextWriter output, TextWriter error, int iterations = PasswordHash.DefaultIterations)
    {
        try
        {
            return Execute(args, store, directory, readPassword, output, error, iterations);
        }
        catch (UserCommandException e)
        {
            error.WriteLine($"actormta user: {e.Message}");
            return 2;
        }
        catch (InvalidDataException e)
        {
            error.WriteLine($"actormta user: {e.Message}");
            return 1;
        }
    }

    static int Execute(IReadOnlyList<string> args, UserStore store, RecipientDirectory directory, Func<string, string?> readPassword,
        TextWriter output, TextWriter error, int iterations)
    {
        if (args.Count == 0)
            throw new UserCommandException("missing subcommand\n" + Usage);
        var users = store.Load().ToList();
        var verb = args[0];
        if (verb == "list")
        {
            foreach (var user in users)
                output.WriteLine(user.Senders.Count == 0 ? user.Name : $"{user.Name}  senders: {string.Join(", ", user.Senders)}");
            return 0;
        }
        if (args.Count < 2)
            throw new UserCommandException($"{verb} needs a user name\n" + Usage);
        var name = ValidName(args[1]);
        var existing = users.FindIndex(u => u.Name == name);
        switch (verb)
        {
            case "add":
                if (existing >= 0)
                    throw new UserCommandException($"{name} exists already (use passwd or senders)");
                var senders = SenderOptions(args.Skip(2).ToList());
                if (name.Contains('@', StringComparison.Ordinal) && !directory.IsLocalDomain(MailAddress.Split(name).Domain))
                    error.WriteLine($"actormta user: note: {name} is not in a local domain; it can send only as the senders given");
                users.Add(new User(name, PasswordHash.Create(NewPassword(readPassword), iterations), senders));
                store.Save(users);
                output.WriteLine($"added {name}");
                return 0;
            case "passwd":
                users[Existing(existing, name)] = users[existing] with { PasswordHash = PasswordHash.Create(NewPassword(readPassword), iterations) };
                store.Save(users);
                output.WriteLine($"password of {name} changed");
                return 0;
            case "senders":
                users[Existing(existing, name)] = users[existing] with { Senders = args.Skip(2).Select(ValidSender).Distinct().ToList() };
                store.Save(users);
                output.WriteLine($"senders of {name}: {(users[existing].Senders.Count == 0 ? "(only its own addresses)" : string.Join(", ", users[existing].Senders))}");
                return 0;
            case "remove":
                users.RemoveAt(Existing(existing, name));
                store.Save(users);
                output.WriteLine($"removed {name}");
                return 0;
            default:
                throw new UserCommandException($"unknown subcommand {verb}\n" + Usage);
        }
    }

    static int Existing(int index, string name) => index >= 0 ? index : throw new UserCommandException($"no user {name}");

    static List<string> SenderOptions(IReadOnlyList<string> args)
    {
        var senders = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] != "--sender" || i + 1 >= args.Count)
                throw new UserCommandException($"unexpected argument {args[i]}\n" + Usage);
            senders.Add(ValidSender(args[++i]));
        }
        return senders.Distinct().ToList();
    }

    static string ValidName(string name)
    {
        var normalized = UserStore.NormalizeName(name);
        if (normalized.Length == 0 || normalized.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new UserCommandException($"\"{name}\" is not a user name (no spaces or control characters)");
        return normalized;
    }

    /// <summary>"user@domain" or "@domain", in the one spelling the edge compares.</summary>
    static string ValidSender(string sender)
    {
        var (local, domain) = MailAddress.Split(sender.Trim());
        var normalized = MailAddress.NormalizeDomain(domain);
        if (!sender.Contains('@', StringComparison.Ordinal) || !MailAddress.IsValidDomain(normalized) || local.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new UserCommandException($"\"{sender}\" is neither an address (user@domain) nor a whole domain (@domain)");
        return $"{local.ToLowerInvariant()}@{normalized}";
    }

    static string NewPassword(Func<string, string?> readPassword)
    {
        var password = readPassword("Password: ") ?? throw new UserCommandException("no password given");
        if (password.Length < MinPasswordLength)
            throw new UserCommandException($"the password is shorter than {MinPasswordLength} characters");
        var again = readPassword("Again: ");
        if (again is not null && again != password)
            throw new UserCommandException("the passwords differ");
        return password;
    }

    sealed class UserCommandException(string message) : Exception(message);
}
