using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Images;

/// <summary>A large image's Deep Zoom pyramid (docs/large-images.md): the descriptor and the tiles, straight from the blob store.</summary>
public static partial class TilesApi
{
    // A tile's bytes never change for an image (the pyramid is named by the content hash): browsers may keep them.
    private const string Immutable = "private, max-age=31536000, immutable";

    public static IEndpointRouteBuilder MapTilesApi(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/api/images/{imageId:guid}").WithTags("Images");
        images.MapGet("/tiles.dzi", Descriptor).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "The image's Deep Zoom descriptor (XML: TileSize, Overlap, Format, Size), once its pyramid is built (tiled: true on the image); 404 before.");
        images.MapGet("/tiles/{level:int}/{tile}", Tile).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "One tile of the image's pyramid: …/tiles/{level}/{col}_{row}.jpg, level 0 being 1×1 and the top level the full resolution.");
        return app;
    }

    [GeneratedRegex(@"^(\d{1,6})_(\d{1,6})\.jpg$")]
    private static partial Regex TileName();

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Descriptor(Guid imageId, HttpContext context, VisionLabelDb db, IBlobStore blobs, CancellationToken ct)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        if (!image.Pyramid || await blobs.OpenReadAsync(BlobKeys.PyramidDzi(image.ContentHash), ct) is not { } stream) return NoPyramid(image);
        context.Response.Headers.CacheControl = Immutable;
        return TypedResults.Stream(stream, "application/xml", entityTag: new EntityTagHeaderValue($"\"{image.ContentHash[..16]}-dzi\""));
    }

    private static async Task<Results<FileStreamHttpResult, ValidationProblem, ProblemHttpResult>> Tile(Guid imageId, int level, string tile, HttpContext context,
        VisionLabelDb db, IBlobStore blobs, CancellationToken ct)
    {
        if (level is < 0 or > 40) return Problems.Invalid("level", $"is 0 (1×1) to the pyramid's top level, not {level}");
        if (TileName().Match(tile) is not { Success: true } m) return Problems.Invalid("tile", $"'{tile}' is not {{col}}_{{row}}.jpg");
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        if (!image.Pyramid) return NoPyramid(image);
        var stream = await blobs.OpenReadAsync(BlobKeys.PyramidTile(image.ContentHash, level, int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)), ct);
        if (stream is null)
            return TypedResults.Problem(statusCode: 404, title: "No such tile", detail: $"The pyramid of {image.FileName} has no tile {level}/{tile}; tiles.dzi gives its size and tile size.");
        context.Response.Headers.CacheControl = Immutable;
        return TypedResults.Stream(stream, "image/jpeg", entityTag: new EntityTagHeaderValue($"\"{image.ContentHash[..16]}-{level}-{m.Groups[1].Value}-{m.Groups[2].Value}\""));
    }

    private static ProblemHttpResult NoPyramid(Image image) => TypedResults.Problem(statusCode: 404, title: "No pyramid",
        detail: $"{image.FileName} has no tile pyramid: large images and TIFFs get one from a job after upload (follow the project's jobs); smaller ones are shown whole from /original.");
}
