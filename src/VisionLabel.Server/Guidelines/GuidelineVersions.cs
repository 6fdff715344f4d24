using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Guidelines;

/// <summary>
/// Each project's current guideline version ("major.minor", null before the first), for the write path to stamp on
/// every op and annotation without a query per op. A publish on this process is seen at once; one on another process
/// within <see cref="Lifetime"/> (the stamp of an op made in that window names the version before).
/// </summary>
public sealed class GuidelineVersions
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<Guid, (string? Version, long Until)> _current = new();

    public async Task<string?> CurrentAsync(VisionLabelDb db, Guid projectId)
    {
        long now = Environment.TickCount64;
        if (_current.TryGetValue(projectId, out var hit) && hit.Until > now) return hit.Version;
        var latest = await db.Guidelines.AsNoTracking().Where(g => g.ProjectId == projectId)
            .OrderByDescending(g => g.Major).ThenByDescending(g => g.Minor).Select(g => new { g.Major, g.Minor }).FirstOrDefaultAsync();
        string? version = latest is null ? null : $"{latest.Major}.{latest.Minor}";
        _current[projectId] = (version, now + (long)Lifetime.TotalMilliseconds);
        return version;
    }

    public void Published(Guid projectId, string version) => _current[projectId] = (version, Environment.TickCount64 + (long)Lifetime.TotalMilliseconds);
}
