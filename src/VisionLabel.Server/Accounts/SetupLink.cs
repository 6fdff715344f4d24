using System.Security.Cryptography;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// First run: there is no default password. While no account exists, the server prints a link with a one-time secret
/// (to its console, which only whoever started it sees); the first admin is created through it. Each start of a
/// server without accounts makes a new secret; it is gone once used.
/// </summary>
public sealed class SetupLink
{
    private readonly Lock _lock = new();
    private string? _secret;

    /// <summary>This process's secret (made on first use; only while there are no accounts).</summary>
    public string Issue()
    {
        lock (_lock) return _secret ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    }

    public bool Pending { get { lock (_lock) return _secret is not null; } }

    /// <summary>True once, for the right secret; the secret is spent.</summary>
    public bool TryUse(string? secret)
    {
        lock (_lock)
        {
            if (_secret is null || secret is null || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(_secret)))
                return false;
            _secret = null;
            return true;
        }
    }

    /// <summary>Puts a secret back when creating the account failed (a bad password), so the link still works.</summary>
    public void Restore(string secret)
    {
        lock (_lock) _secret ??= secret;
    }
}
