using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

public sealed record CommentDto(Guid Id, Guid ImageId, double X, double Y, string Text, string Author, bool Resolved, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static CommentDto From(Comment c) => new(c.Id, c.ImageId, c.X, c.Y, c.Text, c.Author, c.Resolved, c.CreatedAt, c.UpdatedAt);
}

public sealed record NewComment(double X, double Y, [property: System.ComponentModel.DataAnnotations.StringLength(5000)] string Text);

public sealed record ImageStatusChanged(Guid ImageId, ImageStatus Status, string By);

/// <summary>Review actions shared by the hub and REST: image status and comment pins, broadcast to everyone on the image.</summary>
public sealed class ReviewService(VisionLabelDb db, IHubContext<AnnotationsHub> hub, AnnotationSequencer sequencer, OpBroadcaster broadcaster)
{
    public async Task<(Image? Image, string? Problem)> SetStatusAsync(Guid imageId, ImageStatus status, string by, CancellationToken ct = default)
    {
        if (ImageStatusRules.ReviewProblem(status) is { } rule) return (null, rule);
        // Inside the image's exclusive section, like every edit: an edit that moves the status and this review are
        // stored and broadcast in one order, so no editor shows in-progress while the database says submitted.
        return await sequencer.ExclusiveAsync<(Image?, string?)>(imageId, async () =>
        {
            var image = await db.Images.FirstOrDefaultAsync(i => i.Id == imageId, CancellationToken.None);
            if (image is null) return (null, $"no image has id {imageId}");
            image.Status = status;
            image.UpdatedAt = DateTime.UtcNow;
            await db.SaveChangesAsync(CancellationToken.None);
            sequencer.StatusChanged(imageId);
            await broadcaster.StatusChangedAsync(imageId, status, by);
            return (image, null);
        });
    }

    public async Task<(CommentDto? Comment, string? Problem)> AddCommentAsync(Guid imageId, NewComment request, string author, CancellationToken ct = default)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return (null, $"no image has id {imageId}");
        if (string.IsNullOrWhiteSpace(request.Text) || request.Text.Length > 5000) return (null, "a comment needs text (at most 5000 characters)");
        if (!double.IsFinite(request.X) || !double.IsFinite(request.Y) || request.X < 0 || request.Y < 0 || request.X > image.Width || request.Y > image.Height)
            return (null, $"the pin ({request.X}, {request.Y}) is outside the {image.Width}x{image.Height} image");
        var now = DateTime.UtcNow;
        var comment = new Comment { ImageId = imageId, X = request.X, Y = request.Y, Text = request.Text.Trim(), Author = author, CreatedAt = now, UpdatedAt = now };
        db.Comments.Add(comment);
        await db.SaveChangesAsync(ct);
        var dto = CommentDto.From(comment);
        await hub.Clients.Group(OpBroadcaster.ImageGroup(imageId)).SendAsync("CommentAdded", dto, ct);
        return (dto, null);
    }

    public async Task<CommentDto?> ResolveCommentAsync(Guid imageId, Guid commentId, bool resolved, CancellationToken ct = default)
    {
        var comment = await db.Comments.FirstOrDefaultAsync(c => c.Id == commentId && c.ImageId == imageId, ct);
        if (comment is null) return null;
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
