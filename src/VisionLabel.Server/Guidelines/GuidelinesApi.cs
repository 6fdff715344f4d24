using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Guidelines;

/// <summary>An example shape of a card: the annotation, its image and its bounds (x, y, width, height) to crop it from the image.</summary>
public sealed record GuidelineExample(Guid AnnotationId, Guid ImageId, double[] Bounds);

public sealed record GuidelineCardDto(Guid LabelId, string Description, IReadOnlyList<GuidelineExample> Positive, IReadOnlyList<GuidelineExample> Negative);

public sealed record GuidelineDto(string Version, int Major, int Minor, string Markdown, string Changelog, string PublishedBy, DateTime PublishedAt, IReadOnlyList<GuidelineCardDto> Cards);

public sealed record GuidelineVersionInfo(string Version, string Changelog, string PublishedBy, DateTime PublishedAt);

/// <summary>GET …/guidelines: the current version, every version's changelog, and whether the caller must acknowledge the current major one.</summary>
public sealed record GuidelinesDto(GuidelineDto? Current, IReadOnlyList<GuidelineVersionInfo> Versions, int? AcknowledgedMajor, bool MustAcknowledge);

public sealed record NewCard(Guid LabelId, [property: StringLength(5000)] string Description,
    [property: MaxLength(GuidelinesApi.MaxExamples)] IReadOnlyList<Guid>? Positive = null, [property: MaxLength(GuidelinesApi.MaxExamples)] IReadOnlyList<Guid>? Negative = null);

/// <summary>POST …/guidelines: publishes a new version (major: bumps the major number, which everyone must acknowledge).</summary>
public sealed record PublishGuideline([property: StringLength(GuidelinesApi.MaxMarkdown)] string Markdown, [property: StringLength(2000)] string Changelog,
    bool Major = false, [property: MaxLength(Limits.LabelsPerProject)] IReadOnlyList<NewCard>? Cards = null);

public sealed record Acknowledge([property: StringLength(16)] string Version);

/// <summary>A stored guideline image: the URL the Markdown links to, its name (content hash) and size.</summary>
public sealed record GuidelineImage(string Url, string Name, int Width, int Height);

/// <summary>Versioned labeling guidelines per project, their images, and acknowledgements (docs/guidelines.md).</summary>
public static class GuidelinesApi
{
    public const int MaxMarkdown = 200_000;
    public const int MaxExamples = 20;
    public const long MaxImageBytes = 10 << 20;

    public static IServiceCollection AddGuidelines(this IServiceCollection services) => services.AddSingleton<GuidelineVersions>();

    public static IEndpointRouteBuilder MapGuidelinesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/projects/{projectId:guid}/guidelines").WithTags("Guidelines").WithBodyLimit(MaxMarkdown * 4L);
        group.MapGet("/", Current).RequireProjectRole(ProjectRole.Viewer)
            .WithDescription("The current guidelines (Markdown, changelog, label cards with example shapes), every version's changelog, and whether you must acknowledge the current major version before the queue gives you more work.");
        group.MapGet("/versions/{version}", Version).RequireProjectRole(ProjectRole.Viewer).WithDescription("One published version, e.g. 2.1.");
        group.MapPost("/", Publish).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Publishes a new version: {markdown, changelog, major, cards}. The first is 1.0; major: true makes the next major version, which everyone must acknowledge before their next POST …/queue/next.");
        group.MapPost("/acknowledge", Acknowledge).RequireProjectRole(ProjectRole.Viewer).WithDescription("Acknowledges a version's major number: {version}.");
        group.MapPost("/images", UploadImage).DisableAntiforgery().RequireProjectRole(ProjectRole.Owner).DocumentMultipart("file").WithBodyLimit(MaxImageBytes + (1 << 16))
            .WithDescription("Stores a JPEG, PNG or WebP for the guidelines' Markdown; answers its URL.");
        group.MapGet("/images/{name}", Image).RequireProjectRole(ProjectRole.Viewer);
        return app;
    }

    /// <summary>The current major version the person has not acknowledged, or null when they are up to date (or there are no guidelines).</summary>
    public static async Task<string?> UnacknowledgedAsync(VisionLabelDb db, Guid projectId, string user, CancellationToken ct)
    {
        var latest = await db.Guidelines.AsNoTracking().Where(g => g.ProjectId == projectId).OrderByDescending(g => g.Major).ThenByDescending(g => g.Minor)
            .Select(g => new { g.Major, g.Minor }).FirstOrDefaultAsync(ct);
        if (latest is null) return null;
        bool acknowledged = await db.GuidelineAcknowledgements.AnyAsync(a => a.ProjectId == projectId && a.UserName == user && a.Major == latest.Major, ct);
        return acknowledged ? null : $"{latest.Major}.{latest.Minor}";
    }

    private static async Task<Results<Ok<GuidelinesDto>, ProblemHttpResult>> Current(Guid projectId, HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var versions = await db.Guidelines.AsNoTracking().Where(g => g.ProjectId == projectId).OrderByDescending(g => g.Major).ThenByDescending(g => g.Minor)
            .Select(g => new GuidelineVersionInfo(g.Major + "." + g.Minor, g.Changelog, g.PublishedBy, g.PublishedAt)).ToListAsync(ct);
        var current = versions.Count == 0 ? null : await LoadAsync(db, projectId, versions[0].Version, ct);
        string me = context.Caller().UserName;
        int? acknowledged = await db.GuidelineAcknowledgements.Where(a => a.ProjectId == projectId && a.UserName == me).MaxAsync(a => (int?)a.Major, ct);
        return TypedResults.Ok(new GuidelinesDto(current, versions, acknowledged, current is not null && acknowledged != current.Major));
    }

    private static async Task<Results<Ok<GuidelineDto>, ProblemHttpResult>> Version(Guid projectId, string version, VisionLabelDb db, CancellationToken ct) =>
        await LoadAsync(db, projectId, version, ct) is { } dto ? TypedResults.Ok(dto)
            : TypedResults.Problem(statusCode: 404, title: "Version not found", detail: $"This project has no guidelines version '{version}'; GET …/guidelines lists them.");

    private static async Task<GuidelineDto?> LoadAsync(VisionLabelDb db, Guid projectId, string version, CancellationToken ct)
    {
        var parts = version.Split('.');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out int minor)) return null;
        var g = await db.Guidelines.AsNoTracking().Include(x => x.Cards).FirstOrDefaultAsync(x => x.ProjectId == projectId && x.Major == major && x.Minor == minor, ct);
        if (g is null) return null;
        var ids = g.Cards.SelectMany(c => c.Positive.Concat(c.Negative)).Distinct().ToList();
        var examples = new Dictionary<Guid, GuidelineExample>();
        foreach (var chunk in ids.Chunk(500))
            foreach (var a in await db.Annotations.AsNoTracking().Where(a => chunk.Contains(a.Id) && db.Images.Any(i => i.Id == a.ImageId && i.ProjectId == projectId))
                         .Select(a => new { a.Id, a.ImageId, a.Kind, a.Geometry }).ToListAsync(ct))
                examples[a.Id] = new GuidelineExample(a.Id, a.ImageId, Annotations.Geometry.Read(a.Kind, a.Geometry).Bounds);
        // An example whose annotation was deleted since is left out of the card (the version's text stands).
        IReadOnlyList<GuidelineExample> Pick(List<Guid> list) => list.Where(examples.ContainsKey).Select(id => examples[id]).ToList();
        return new GuidelineDto(g.Version, g.Major, g.Minor, g.Markdown, g.Changelog, g.PublishedBy, g.PublishedAt,
            g.Cards.OrderBy(c => c.Id).Select(c => new GuidelineCardDto(c.LabelId, c.Description, Pick(c.Positive), Pick(c.Negative))).ToList());
    }

    private static async Task<Results<Created<GuidelineDto>, ValidationProblem, ProblemHttpResult>> Publish(Guid projectId, PublishGuideline request, HttpContext context,
        VisionLabelDb db, GuidelineVersions versions, Webhooks.Webhooks webhooks, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        if (string.IsNullOrWhiteSpace(request.Markdown)) return Problems.Invalid("markdown", "the guidelines need text");
        if (string.IsNullOrWhiteSpace(request.Changelog)) return Problems.Invalid("changelog", "say what changed in this version (people read it before they acknowledge)");
        var cards = request.Cards ?? [];
        var labelIds = await db.Labels.Where(l => l.ProjectId == projectId).Select(l => l.Id).ToListAsync(ct);
        for (int i = 0; i < cards.Count; i++)
        {
            if (cards[i] is null || cards[i].Description is null) return Problems.Invalid($"cards[{i}]", "a card is {labelId, description, positive, negative}");
            if (!labelIds.Contains(cards[i].LabelId)) return Problems.Invalid($"cards[{i}].labelId", $"{cards[i].LabelId} is not a label of this project");
            if (cards.Take(i).Any(c => c.LabelId == cards[i].LabelId)) return Problems.Invalid($"cards[{i}].labelId", "each label has one card");
            var examples = (cards[i].Positive ?? []).Concat(cards[i].Negative ?? []).Distinct().ToList();
            int found = await db.Annotations.CountAsync(a => examples.Contains(a.Id) && db.Images.Any(im => im.Id == a.ImageId && im.ProjectId == projectId), ct);
            if (found != examples.Count) return Problems.Invalid($"cards[{i}]", $"{examples.Count - found} example annotation(s) are not annotations of this project");
        }
        var latest = await db.Guidelines.Where(g => g.ProjectId == projectId).OrderByDescending(g => g.Major).ThenByDescending(g => g.Minor)
            .Select(g => new { g.Major, g.Minor }).FirstOrDefaultAsync(ct);
        var (major, minor) = latest is null ? (1, 0) : request.Major ? (latest.Major + 1, 0) : (latest.Major, latest.Minor + 1);
        var guideline = new Guideline
        {
            ProjectId = projectId, Major = major, Minor = minor, Markdown = request.Markdown, Changelog = request.Changelog.Trim(),
            PublishedBy = context.Caller().UserName, PublishedAt = DateTime.UtcNow,
            Cards = cards.Select(c => new GuidelineCard { LabelId = c.LabelId, Description = c.Description.Trim(), Positive = [.. c.Positive ?? []], Negative = [.. c.Negative ?? []] }).ToList(),
        };
        db.Guidelines.Add(guideline);
        // Whoever publishes a major version has read it.
        string publisher = context.Caller().UserName;
        if (minor == 0 && !await db.GuidelineAcknowledgements.AnyAsync(a => a.ProjectId == projectId && a.UserName == publisher && a.Major == major, ct))
            db.GuidelineAcknowledgements.Add(new GuidelineAcknowledgement { ProjectId = projectId, UserName = publisher, Major = major, AcknowledgedAt = DateTime.UtcNow });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (Annotations.ImageUnitOfWork.IsRace(e))
        {
            return Problems.Conflict("Published meanwhile", "Another owner published a version at the same moment; reload the guidelines and publish again.");
        }
        versions.Published(projectId, guideline.Version);
        await webhooks.RaiseAsync(projectId, Webhooks.WebhookEvents.GuidelinePublished, new
        {
            version = guideline.Version, major, minor, changelog = guideline.Changelog, publishedBy = guideline.PublishedBy, mustAcknowledge = minor == 0,
        });
        return TypedResults.Created($"/api/projects/{projectId}/guidelines/versions/{guideline.Version}", (await LoadAsync(db, projectId, guideline.Version, ct))!);
    }

    private static async Task<Results<Ok<GuidelinesDto>, ValidationProblem, ProblemHttpResult>> Acknowledge(Guid projectId, Acknowledge request, HttpContext context,
        VisionLabelDb db, CancellationToken ct)
    {
        var parts = request.Version.Split('.');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out int minor) ||
            !await db.Guidelines.AnyAsync(g => g.ProjectId == projectId && g.Major == major && g.Minor == minor, ct))
            return Problems.Invalid("version", $"'{request.Version}' is not a published version of this project's guidelines");
        string me = context.Caller().UserName;
        if (!await db.GuidelineAcknowledgements.AnyAsync(a => a.ProjectId == projectId && a.UserName == me && a.Major == major, ct))
        {
            db.GuidelineAcknowledgements.Add(new GuidelineAcknowledgement { ProjectId = projectId, UserName = me, Major = major, AcknowledgedAt = DateTime.UtcNow });
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateException e) when (Annotations.ImageUnitOfWork.IsRace(e)) { } // acknowledged twice at once: once is what counts
        }
        return await Current(projectId, context, db, ct) switch
        {
            { Result: Ok<GuidelinesDto> ok } => ok,
            { Result: ProblemHttpResult problem } => problem,
            _ => throw new InvalidOperationException(),
        };
    }

    private static string ImageKey(Guid projectId, string name) => $"guidelines/{projectId}/{name}";

    private static async Task<Results<Created<GuidelineImage>, ProblemHttpResult>> UploadImage(Guid projectId, HttpContext context, VisionLabelDb db, IBlobStore blobs, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        if (!MultipartUpload.TryStart(context, MaxImageBytes + (1 << 16), out var boundary))
            return TypedResults.Problem(statusCode: 415, title: "Expected multipart/form-data", detail: "Send the image as a multipart/form-data file part.");
        var reader = new MultipartReader(boundary, context.Request.Body);
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var d) || !d.IsFileDisposition()) continue;
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            for (int n; (n = await section.Body.ReadAsync(chunk, ct)) > 0;)
            {
                if (buffer.Length + n > MaxImageBytes) return Problems.BadRequest("Image too large", $"A guideline image is at most {MaxImageBytes:N0} bytes.");
                buffer.Write(chunk, 0, n);
            }
            Imaging.ImageHeader header;
            try { header = Imaging.ImageHeaderReader.Read(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)); }
            catch (Imaging.InvalidImageException e) { return Problems.BadRequest("Not an image", $"{d.FileName.Value ?? "the file"}: {e.Message}; send a JPEG, PNG or WebP."); }
            if (!Imaging.ImageFormats.BrowserShows(header.Format))
                return Problems.BadRequest("Not a web image", $"{d.FileName.Value ?? "the file"} is a {Imaging.ImageFormatExtensions.Name(header.Format).ToUpperInvariant()}, which browsers do not show; send a JPEG, PNG or WebP.");
            string ext = header.Format switch { Imaging.ImageFormat.Jpeg => "jpg", Imaging.ImageFormat.Png => "png", _ => "webp" };
            string name = $"{Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))}.{ext}";
            buffer.Position = 0;
            await blobs.PutAsync(ImageKey(projectId, name), buffer, ct);
            string url = $"/api/projects/{projectId}/guidelines/images/{name}";
            return TypedResults.Created(url, new GuidelineImage(url, name, header.Width, header.Height));
        }
        return Problems.BadRequest("No image in the upload", "The multipart body had no file part.");
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Image(Guid projectId, string name, HttpContext context, IBlobStore blobs, CancellationToken ct)
    {
        // Names are what the upload made (a hash and an extension): anything else, such as a path, is not found.
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[0-9a-f]{64}\\.(jpg|png|webp)$"))
            return TypedResults.Problem(statusCode: 404, title: "Guideline image not found", detail: $"No guideline image is named '{name}'.");
        var stream = await blobs.OpenReadAsync(ImageKey(projectId, name), ct);
        if (stream is null) return TypedResults.Problem(statusCode: 404, title: "Guideline image not found", detail: $"No guideline image is named '{name}'.");
        string type = name.EndsWith(".jpg") ? "image/jpeg" : name.EndsWith(".png") ? "image/png" : "image/webp";
        context.Response.Headers.CacheControl = "private, max-age=31536000, immutable"; // named by its content: it never changes
        return TypedResults.File(stream, type);
    }
}
