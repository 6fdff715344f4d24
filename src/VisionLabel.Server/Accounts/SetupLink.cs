using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// First run: there is no default password. While no account exists, the server prints a link with a secret (to its
/// console, which only whoever started it sees); the first admin is created through it, and once any account exists
/// no setup link works. The secret is sealed with the installation's data-protection keys, which every server process
/// shares (in the database, see ScaleoutSetup), so a link one process printed works through a load balancer that sends
/// the form to another; a forged or altered one does not, and none outlives <see cref="Lifetime"/> (a link left in old
/// logs is not a standing way to make an admin).
/// </summary>
public sealed class SetupLink(IDataProtectionProvider protection)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private const string Marker = "visionlabel-setup";
    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("VisionLabel.Accounts.SetupLink.v1").ToTimeLimitedDataProtector();
    private readonly SemaphoreSlim _setup = new(1, 1);

    /// <summary>A new link secret (each start of a server without accounts prints one).</summary>
    public string Issue() => _protector.Protect(Marker, Lifetime);

    /// <summary>Whether this is an unexpired secret some process of this installation issued.</summary>
    public bool IsValid(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 1000) return false;
        try { return _protector.Unprotect(secret) == Marker; }
        catch (CryptographicException) { return false; } // not base64url, altered, expired, or another installation's
    }

    /// <summary>
    /// Creates the first admin unless an account exists, one request at a time: in this process (a double submit), and
    /// on PostgreSQL across processes too (a transaction-scoped advisory lock around the check and the insert), so two
    /// submits that reach two servers make one account. Null: an account existed already.
    /// </summary>
    public async Task<(UserAccount? User, string? Field, string? Problem)?> CreateFirstAdminAsync(VisionLabelDb db, Accounts accounts,
        string userName, string? email, string password)
    {
        await _setup.WaitAsync();
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await AdvisoryLocks.ForTransactionAsync(db, AdvisoryLocks.FirstAdmin);
            if (await accounts.AnyAsync()) return null;
            var created = await accounts.CreateAsync(userName, email, password, isAdmin: true);
            if (created.User is not null) await tx.CommitAsync();
            return created;
        }
        finally { _setup.Release(); }
    }
}
