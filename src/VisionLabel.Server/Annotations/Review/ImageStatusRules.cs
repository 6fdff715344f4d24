using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>What moves an image's status, and from where.</summary>
public enum ImageEvent
{
    /// <summary>A pre-labeling job wrote proposals: new → prelabeled.</summary>
    Prelabeled,
    /// <summary>A person changed an annotation: new or prelabeled → in-progress (later states stay).</summary>
    EditedByPerson,
}

/// <summary>
/// The image status state machine, in one place. The server moves images through new → prelabeled → in-progress
/// as work happens; people move them through review: submitted, approved, rejected, and back to in-progress
/// (reopen) from any state. New and prelabeled are the server's own: nobody sets them by hand.
/// </summary>
public static class ImageStatusRules
{
    private static readonly ImageStatus[] SetByPeople = [ImageStatus.InProgress, ImageStatus.Submitted, ImageStatus.Approved, ImageStatus.Rejected];

    public static (ImageStatus[] From, ImageStatus To) Transition(ImageEvent e) => e switch
    {
        ImageEvent.Prelabeled => ([ImageStatus.New], ImageStatus.Prelabeled),
        ImageEvent.EditedByPerson => ([ImageStatus.New, ImageStatus.Prelabeled], ImageStatus.InProgress),
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    /// <summary>Why a person may not set this status, or null when they may.</summary>
    public static string? ReviewProblem(ImageStatus to) => SetByPeople.Contains(to)
        ? null
        : $"status '{ApiEnum.Name(to)}' is set by the server; people set one of {string.Join(", ", SetByPeople.Select(ApiEnum.Name))}";

    /// <summary>The least project role that may set this status: approving and rejecting is review.</summary>
    public static Accounts.ProjectRole RoleToSet(ImageStatus to) =>
        to is ImageStatus.Approved or ImageStatus.Rejected ? Accounts.ProjectRole.Reviewer : Accounts.ProjectRole.Annotator;

    /// <summary>Why someone with <paramref name="role"/> may not set this status, or null when they may.</summary>
    public static string? RoleProblem(ImageStatus to, Accounts.ProjectRole? role) => role >= RoleToSet(to) ? null
        : $"setting '{ApiEnum.Name(to)}' needs the {RoleToSet(to).ToString().ToLowerInvariant()} role; you are {role?.ToString().ToLowerInvariant() ?? "not a member"}";

    /// <summary>Applies the event's transition if the image is in one of its from-states; returns whether it moved.</summary>
    public static async Task<bool> ApplyAsync(VisionLabelDb db, Guid imageId, ImageEvent e, DateTime now)
    {
        var (from, to) = Transition(e);
        var query = db.Images.Where(i => i.Id == imageId);
        // Spelled out (one or two states) rather than Contains over an array: plain comparisons on both providers.
        query = from.Length == 1 ? query.Where(i => i.Status == from[0]) : query.Where(i => i.Status == from[0] || i.Status == from[1]);
        return await query.ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, to).SetProperty(i => i.UpdatedAt, now), CancellationToken.None) > 0;
    }
}
