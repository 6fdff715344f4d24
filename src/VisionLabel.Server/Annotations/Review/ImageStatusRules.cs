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
/// The image status moves the server makes as work happens (new → prelabeled → in-progress), and which statuses
/// keep people's edits out. People move images through review with the workflow transitions (<see cref="WorkflowRules"/>):
/// submitted, approved, rejected, and back to in-progress (reopen). New and prelabeled are the server's own.
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

    /// <summary>Why a person with <paramref name="role"/> may not change the annotations of an image in this status, or
    /// null: submitted images wait for review (read-only below the reviewer role), approved ones are done (read-only
    /// until an owner reopens them). The transitions themselves are <see cref="WorkflowRules"/>.</summary>
    public static string? EditProblem(ImageStatus status, Accounts.ProjectRole role) => status switch
    {
        ImageStatus.Approved =>
            "the image is approved and read-only; an owner reopens it (POST /api/images/{id}/reopen) before anything on it changes",
        ImageStatus.Submitted when role < Accounts.ProjectRole.Reviewer =>
            "the image is submitted and waits for review, so annotators cannot change it; a reviewer can reject it for rework",
        _ => null,
    };

    /// <summary>Applies the event's transition if the image is in one of its from-states; returns whether it moved.</summary>
    public static async Task<bool> ApplyAsync(VisionLabelDb db, Guid imageId, ImageEvent e, DateTime now)
    {
        var (from, to) = Transition(e);
        var query = db.Images.IgnoreQueryFilters().Where(i => i.Id == imageId);
        // Spelled out (one or two states) rather than Contains over an array: plain comparisons on both providers.
        query = from.Length == 1 ? query.Where(i => i.Status == from[0]) : query.Where(i => i.Status == from[0] || i.Status == from[1]);
        return await query.ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, to).SetProperty(i => i.UpdatedAt, now), CancellationToken.None) > 0;
    }
}
