using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>A token as created: the secret is in <see cref="Token"/> and nowhere else, ever.</summary>
public sealed record CreatedToken(AccessToken Row, string Token);

/// <summary>
/// Personal access tokens: "vlpat_" and 43 characters of base64url (256 random bits). Stored as SHA-256: a leaked
/// database gives no usable token, and a lookup by hash needs no slow password hash (the secret has full entropy).
/// </summary>
public sealed class PersonalAccessTokens(VisionLabelDb db)
{
    public const string Prefix = "vlpat_";
    public const int MaxPerUser = 100;

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool LooksLikeToken(string? text) => text is { Length: > 20 and < 200 } && text.StartsWith(Prefix, StringComparison.Ordinal);

    public async Task<CreatedToken> CreateAsync(Guid userId, string name, TokenScope scope, int? expiresInDays, CancellationToken ct = default)
    {
        string token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = DateTime.UtcNow;
        var row = new AccessToken
        {
            Id = MonotonicGuid.Next(), UserId = userId, Name = name, Hash = HashOf(token), Scope = scope, CreatedAt = now,
            ExpiresAt = expiresInDays is { } days ? now.AddDays(days) : null,
        };
        db.AccessTokens.Add(row);
        await db.SaveChangesAsync(ct);
        return new CreatedToken(row, token);
    }

    /// <summary>The live token with this secret, or null (unknown, revoked, expired, or its account disabled).</summary>
    public async Task<(AccessToken Token, UserAccount User)?> FindAsync(string token, CancellationToken ct)
    {
        string hash = HashOf(token);
        var now = DateTime.UtcNow;
        var found = await db.AccessTokens.AsNoTracking().Where(t => t.Hash == hash && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now))
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { t, u }).FirstOrDefaultAsync(ct);
        if (found is null || found.u.DisabledAt is not null) return null;
        // Last use to the minute is enough, and saves a write on every request.
        if (found.t.LastUsedAt is not { } used || now - used > TimeSpan.FromMinutes(1))
            await db.AccessTokens.Where(t => t.Id == found.t.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct);
        return (found.t, found.u);
    }

    /// <summary>Revokes the user's tokens (all, or the one given); returns how many were live.</summary>
    public Task<int> RevokeAsync(Guid userId, Guid? tokenId, CancellationToken ct = default)
    {
        var now = DateTime.UtcNow;
        return db.AccessTokens.Where(t => t.UserId == userId && t.RevokedAt == null && (tokenId == null || t.Id == tokenId))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
