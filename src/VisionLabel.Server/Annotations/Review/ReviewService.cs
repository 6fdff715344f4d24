using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Notifications;

namespace VisionLabel.Server.Annotations;

/// <summary>A comment: a thread's first (its pin at x, y) or a reply (parentId: the thread's first; same pin).</summary>
public sealed record CommentDto(Guid Id, Guid ImageId, double X, double Y, string Text, string Author, bool Resolved, DateTime CreatedAt, DateTime UpdatedAt, Guid? ParentId)
{
    public static CommentDto From(Comment c) => new(c.Id, c.ImageId, c.X, c.Y, c.Text, c.Author, c.Resolved, c.CreatedAt, c.UpdatedAt, c.ParentId);
}

/// <summary>A new thread pinned at (x, y), or with parentId a reply to a thread (its pin is the thread's; x and y are ignored).</summary>
public sealed record NewComment(double X, double Y, [property: System.ComponentModel.DataAnnotations.StringLength(5000)] string Text, Guid? ParentId = null);

/// <summary>PATCH …/comments/{id}: resolve or reopen the thread.</summary>
public sealed record ResolveRequest(bool Resolved);

public sealed record ImageStatusChanged(Guid ImageId, ImageStatus Status, string By);

/// <summary>
/// Review comments: threads pinned to a point of an image, with replies and a resolved state (set on the thread),
/// broadcast to everyone on the image. The people whose work it is (its submitter, assignee and lease holder) and
/// everyone in the thread are notified, except the author.
/// </summary>
public sealed class ReviewService(VisionLabelDb db, IHubContext<AnnotationsHub> hub, Notifier notifier)
{
    public async Task<(CommentDto? Comment, string? Problem)> AddCommentAsync(Guid imageId, NewComment request, string author, CancellationToken ct = default)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return (null, $"no image has id {imageId}");
        if (string.IsNullOrWhiteSpace(request.Text) || request.Text.Length > 5000) return (null, "a comment needs text (at most 5000 characters)");
        Comment? thread = null;
        if (request.ParentId is { } parentId)
        {
            thread = await db.Comments.AsNoTracking().FirstOrDefaultAsync(c => c.Id == parentId && c.ImageId == imageId, ct);
            if (thread is null) return (null, $"parentId: no comment {parentId} on this image to reply to");
            if (thread.ParentId is { } root) thread = await db.Comments.AsNoTracking().FirstAsync(c => c.Id == root, ct); // a reply to a reply joins the thread
        }
        else if (!double.IsFinite(request.X) || !double.IsFinite(request.Y) || request.X < 0 || request.Y < 0 || request.X > image.Width || request.Y > image.Height)
            return (null, $"the pin ({request.X}, {request.Y}) is outside the {image.Width}x{image.Height} image");
        var now = DateTime.UtcNow;
        var comment = new Comment
        {
            ImageId = imageId, X = thread?.X ?? request.X, Y = thread?.Y ?? request.Y, Text = request.Text.Trim(), Author = author, ParentId = thread?.Id,
            CreatedAt = now, UpdatedAt = now,
        };
        db.Comments.Add(comment);
        await db.SaveChangesAsync(ct);
        var dto = CommentDto.From(comment);
        await hub.Clients.Group(OpBroadcaster.ImageGroup(imageId)).SendAsync("CommentAdded", dto, ct);

        var people = new List<string?> { image.SubmittedBy, image.AnnotateAssignee, image.LeaseExpiresAt > now ? image.LeaseHolder : null };
        if (thread is not null)
            people.AddRange(await db.Comments.AsNoTracking().Where(c => c.Id == thread.Id || c.ParentId == thread.Id).Select(c => c.Author).Distinct().ToListAsync(ct));
        string text = comment.Text.Length > 200 ? comment.Text[..200] + "…" : comment.Text;
        await notifier.NotifyAsync(people, Notifications.NotificationKind.Commented, image.ProjectId, imageId,
            $"{author} {(thread is null ? "commented on" : "replied on")} {image.FileName}: {text}", except: author);
        return (dto, null);
    }

    /// <summary>Resolves or reopens a thread (a reply's id resolves its thread).</summary>
    public async Task<CommentDto?> ResolveCommentAsync(Guid imageId, Guid commentId, bool resolved, CancellationToken ct = default)
    {
        var comment = await db.Comments.FirstOrDefaultAsync(c => c.Id == commentId && c.ImageId == imageId, ct);
        if (comment is null) return null;
        if (comment.ParentId is { } root) comment = await db.Comments.FirstAsync(c => c.Id == root, ct);
        comment.Resolved = resolved;
        comment.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        var dto = CommentDto.From(comment);
        await hub.Clients.Group(OpBroadcaster.ImageGroup(imageId)).SendAsync("CommentChanged", dto, ct);
        return dto;
    }

    public async Task<List<CommentDto>> CommentsAsync(Guid imageId, CancellationToken ct = default) =>
        (await db.Comments.AsNoTracking().Where(c => c.ImageId == imageId).OrderBy(c => c.Id).ToListAsync(ct)).Select(CommentDto.From).ToList();
}
