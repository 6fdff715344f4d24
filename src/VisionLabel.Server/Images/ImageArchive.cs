using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Images;

/// <summary>
/// Archiving an image (owners): it keeps its file, annotations, comments and history, and leaves the grid (unless the grid
/// asks for archived images), the work queue, exports and the status counts, until it is unarchived. A lease on it is
/// let go: nobody is working on an image that is out of the work. Deleting is the other way out, and cannot be undone.
/// </summary>
internal static class ImageArchive
{
    public static async Task<Results<Ok<ImageDto>, ProblemHttpResult>> ArchiveAsync(Guid imageId, VisionLabelDb db, TimeProvider time, CancellationToken ct) =>
        await SetAsync(db, imageId, time.GetUtcNow().UtcDateTime, ct);

    public static async Task<Results<Ok<ImageDto>, ProblemHttpResult>> UnarchiveAsync(Guid imageId, VisionLabelDb db, CancellationToken ct) =>
        await SetAsync(db, imageId, null, ct);

    private static async Task<Results<Ok<ImageDto>, ProblemHttpResult>> SetAsync(VisionLabelDb db, Guid imageId, DateTime? at, CancellationToken ct)
    {
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        // Archiving twice keeps the first time; unarchiving an image that is not archived changes nothing.
        if (at is null || image.ArchivedAt is null)
        {
            image.ArchivedAt = at;
            if (at is not null) (image.LeaseHolder, image.LeaseStage, image.LeaseExpiresAt) = (null, null, null);
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.Ok(ImageDto.From(image));
    }
}
