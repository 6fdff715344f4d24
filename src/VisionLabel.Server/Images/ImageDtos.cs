using VisionLabel.Server.Data;

namespace VisionLabel.Server.Images;

public sealed record ImageDto(
    Guid Id, Guid ProjectId, string FileName, string ContentHash, int Width, int Height, int Orientation,
    string Format, long SizeBytes, ImageStatus Status, DateTime CreatedAt, DateTime UpdatedAt, bool Tiled = false, DateTime? ArchivedAt = null)
{
    /// <summary>Tiled: its pyramid is ready (GET …/tiles.dzi and …/tiles/{level}/{col}_{row}.jpg). ArchivedAt: set while archived.</summary>
    public static ImageDto From(Image i) => new(i.Id, i.ProjectId, i.FileName, i.ContentHash, i.Width, i.Height,
        i.Orientation, i.Format, i.SizeBytes, i.Status, i.CreatedAt, i.UpdatedAt, i.Pyramid, i.ArchivedAt);
}

public sealed record ImagePage(IReadOnlyList<ImageDto> Items, int Total, int Offset, int Limit);

public enum UploadOutcome { Created, Duplicate, Rejected }

/// <summary>What happened to one file of an upload. Duplicates name the image that already holds the bytes.</summary>
public sealed record UploadedFile(string FileName, UploadOutcome Outcome, ImageDto? Image, string? Error);

public sealed record UploadSummary(IReadOnlyList<UploadedFile> Files, int Created, int Duplicates, int Rejected);

/// <summary>status: submitted, approved, rejected (with reason and comment) or in-progress (reopen), as the workflow routes do.</summary>
public sealed record UpdateImageRequest(ImageStatus? Status = null,
    [property: System.ComponentModel.DataAnnotations.StringLength(100)] string? Reason = null,
    [property: System.ComponentModel.DataAnnotations.StringLength(5000)] string? Comment = null);
