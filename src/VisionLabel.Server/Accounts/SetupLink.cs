using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// First run: there is no default password. While no account exists, the server prints a link with a secret (to its
/// console, which only whoever started it sees); the first admin is created through it, and once any account exists
/// no setup link works. The secret is sealed with the installation's data-protection keys, which every server process
/// shares (in the database, see ScaleoutSetup), so a link one process printed works through a load balancer that sends
/// the form to another; a forged or altered one does not.
/// </summary>
public sealed class SetupLink(IDataProtectionProvider protection)
{
    private const string Marker = "visionlabel-setup:";
    private readonly IDataProtector _protector = protection.CreateProtector("VisionLabel.Accounts.SetupLink.v1");
    private readonly SemaphoreSlim _setup = new(1, 1);

    /// <summary>A new link secret (each start of a server without accounts prints one).</summary>
    public string Issue() => _protector.Protect(Marker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    /// <summary>Whether this is a secret some process of this installation issued.</summary>
    public bool IsValid(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 1000) return false;
        try { return _protector.Unprotect(secret).StartsWith(Marker, StringComparison.Ordinal); }
        catch (CryptographicException) { return false; } // not base64url, altered, or another installation's
    }

    /// <summary>Runs the creation of the first admin one at a time in this process, so a double submit makes one account.</summary>
    public async Task<T> OneAtATimeAsync<T>(Func<Task<T>> create)
    {
        await _setup.WaitAsync();
        try { return await create(); }
        finally { _setup.Release(); }
    }
}
