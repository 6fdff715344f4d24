using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Maintenance;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Projects;

public static class ProjectsApi
{
    public static IEndpointRouteBuilder MapProjectsApi(this IEndpointRouteBuilder app)
    {
        var projects = app.MapGroup("/api/projects").WithTags("Projects").WithBodyLimit(Limits.SmallJsonBody);
        projects.MapGet("/", ListProjects).RequireSignedIn().WithDescription("The projects you are a member of (every project for an admin).");
        projects.MapGet("/stats", Stats).RequireSignedIn().WithDescription("Image counts by status for every project, in one query (for project lists).");
        projects.MapPost("/", CreateProject).RequireSignedIn().WithDescription("Creates a project; you become its owner.");
        projects.MapGet("/{projectId:guid}", GetProject).RequireProjectRole(ProjectRole.Viewer);
        projects.MapPatch("/{projectId:guid}", UpdateProject).RequireProjectRole(ProjectRole.Owner);
        projects.MapDelete("/{projectId:guid}", DeleteProject).RequireProjectRole(ProjectRole.Owner);

        projects.MapPost("/{projectId:guid}/archive", (Guid projectId, VisionLabelDb db, TimeProvider time, CancellationToken ct) => SetArchivedAsync(projectId, time.GetUtcNow().UtcDateTime, db, ct))
            .RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Archives the project: kept whole, out of the project list (GET /api/projects?archived=true lists archived ones), its queue closed (409).");
        projects.MapPost("/{projectId:guid}/unarchive", (Guid projectId, VisionLabelDb db, CancellationToken ct) => SetArchivedAsync(projectId, null, db, ct))
            .RequireProjectRole(ProjectRole.Owner);
        var labels = projects.MapGroup("/{projectId:guid}/labels").WithTags("Labels");
        labels.MapGet("/", ListLabels).RequireProjectRole(ProjectRole.Viewer);
        labels.MapPost("/", CreateLabel).RequireProjectRole(ProjectRole.Owner);
        labels.MapPatch("/{labelId:guid}", UpdateLabel).RequireProjectRole(ProjectRole.Owner);
        labels.MapDelete("/{labelId:guid}", DeleteLabel).RequireProjectRole(ProjectRole.Owner);
        return app;
    }

    /// <param name="archived">true: the archived projects instead of the others.</param>
    private static async Task<Ok<List<ProjectDto>>> ListProjects(bool? archived, HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        bool wanted = archived == true;
        var list = await ProjectMembership.Visible(db, context.Caller()).AsNoTracking().Where(p => (p.ArchivedAt != null) == wanted)
            .Include(p => p.Labels).OrderBy(p => p.Name).ToListAsync(ct);
        return TypedResults.Ok(list.Select(ProjectDto.From).ToList());
    }

    private static async Task<Ok<List<ProjectStatsDto>>> Stats(HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        var visible = ProjectMembership.Visible(db, context.Caller()).Select(p => p.Id);
        var rows = await db.Images.AsNoTracking().Where(i => visible.Contains(i.ProjectId) && i.ArchivedAt == null).GroupBy(i => new { i.ProjectId, i.Status })
            .Select(g => new { g.Key.ProjectId, g.Key.Status, Count = g.Count() }).ToListAsync(ct);
        var projects = await visible.ToListAsync(ct);
        return TypedResults.Ok(projects.Select(id =>
        {
            var mine = rows.Where(r => r.ProjectId == id).ToList();
            return new ProjectStatsDto(id, mine.Sum(r => r.Count), Enum.GetValues<ImageStatus>().ToDictionary(ApiEnum.Name, s => mine.Where(r => r.Status == s).Sum(r => r.Count)));
        }).ToList());
    }

    private static async Task<Results<Ok<ProjectDto>, ProblemHttpResult>> SetArchivedAsync(Guid projectId, DateTime? at, VisionLabelDb db, CancellationToken ct)
    {
        var project = await db.Projects.Include(p => p.Labels).FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        if (at is null || project.ArchivedAt is null) // archiving twice keeps the first time
        {
            project.ArchivedAt = at;
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.Ok(ProjectDto.From(project));
    }

    private static async Task<Results<Ok<ProjectDto>, ProblemHttpResult>> GetProject(Guid projectId, VisionLabelDb db, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().Include(p => p.Labels).FirstOrDefaultAsync(p => p.Id == projectId, ct);
        return project is null ? Problems.NotFound("Project", projectId) : TypedResults.Ok(ProjectDto.From(project));
    }

    private static async Task<Results<Created<ProjectDto>, ValidationProblem, ProblemHttpResult>> CreateProject(
        CreateProjectRequest request, HttpContext context, VisionLabelDb db, Microsoft.Extensions.Options.IOptions<ProjectsOptions> options, CancellationToken ct)
    {
        if (options.Value.AdminsOnly && !context.Caller().IsAdmin)
            return TypedResults.Problem(statusCode: 403, title: "Admins create projects",
                detail: "On this server only admins create projects (VisionLabel:Projects:Creators=admins); ask an admin to create one and add you.");
        if (LabelRules.NameProblem(request.Name) is { } problem) return Problems.Invalid("name", problem);
        string name = request.Name.Trim();
        if (await db.Projects.AnyAsync(p => p.Name == name, ct))
            return Problems.Conflict("Project name taken", $"A project named '{name}' already exists; choose another name.");

        var now = DateTime.UtcNow;
        var project = new Project { Name = name, Description = request.Description, CreatedAt = now, UpdatedAt = now };
        var labels = request.Labels ?? [];
        for (int i = 0; i < labels.Count; i++)
        {
            var result = BuildLabel(project.Id, labels[i], i, project.Labels);
            if (result.Problem is not null) return Problems.Invalid($"labels[{i}]{(result.Field is { } f ? "." + f : "")}", result.Problem);
            project.Labels.Add(result.Label!);
        }
        db.Projects.Add(project);
        db.ProjectMembers.Add(ProjectMembership.Creator(project.Id, context.Caller().UserId));
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/projects/{project.Id}", ProjectDto.From(project));
    }

    private static async Task<Results<Ok<ProjectDto>, ValidationProblem, ProblemHttpResult>> UpdateProject(
        Guid projectId, UpdateProjectRequest request, VisionLabelDb db, CancellationToken ct)
    {
        var project = await db.Projects.Include(p => p.Labels).FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        if (request.Name is not null)
        {
            if (LabelRules.NameProblem(request.Name) is { } problem) return Problems.Invalid("name", problem);
            string name = request.Name.Trim();
            if (await db.Projects.AnyAsync(p => p.Name == name && p.Id != projectId, ct))
                return Problems.Conflict("Project name taken", $"A project named '{name}' already exists; choose another name.");
            project.Name = name;
        }
        if (request.Description is not null) project.Description = request.Description;
        if (request.Workflow is { } workflow && WorkflowSettings.Apply(project, workflow) is { } bad) return Problems.Invalid(bad.Field, bad.Problem);
        // A new seed (or switching to random) reorders the queue: the images' shuffle keys are recomputed on the next pull.
        if (project.ShuffleStale) await db.Images.Where(i => i.ProjectId == projectId).ExecuteUpdateAsync(u => u.SetProperty(i => i.ShuffleKey, (long?)null), ct);
        project.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ProjectDto.From(project));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteProject(
        Guid projectId, HttpContext context, VisionLabelDb db, AnnotationSequencer sequencer,
        MaintenanceSweeper sweeper, Microsoft.Extensions.Options.IOptions<ImageIntakeOptions> intake, CancellationToken ct)
    {
        var images = await db.Images.Where(i => i.ProjectId == projectId).Select(i => new { i.Id, i.ContentHash }).ToListAsync(ct);
        // Every image goes through the write path (one path for every change: its annotations deleted as ops, everyone
        // on it on any process told), then the project with its labels. Not cancelled half way: once started, it
        // finishes. Blobs nothing references any more are removed by the storage sweep.
        foreach (var image in images) await sequencer.DeleteImageAsync(image.Id, context.Caller().UserName, CancellationToken.None);
        int deleted = await db.Projects.Where(p => p.Id == projectId).ExecuteDeleteAsync(CancellationToken.None);
        var hashes = images.Select(i => i.ContentHash).ToList();
        await sweeper.TouchImageBlobsAsync(hashes, intake.Value.ThumbnailSize, CancellationToken.None); // the sweep's grace period starts now
        return deleted == 0 ? Problems.NotFound("Project", projectId) : TypedResults.NoContent();
    }

    private static async Task<Results<Ok<List<LabelDto>>, ProblemHttpResult>> ListLabels(Guid projectId, VisionLabelDb db, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).OrderBy(l => l.Order).ThenBy(l => l.Name).ToListAsync(ct);
        return TypedResults.Ok(labels.Select(LabelDto.From).ToList());
    }

    private static async Task<Results<Created<LabelDto>, ValidationProblem, ProblemHttpResult>> CreateLabel(
        Guid projectId, CreateLabelRequest request, VisionLabelDb db, CancellationToken ct)
    {
        var project = await db.Projects.Include(p => p.Labels).FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        var result = BuildLabel(projectId, request, project.Labels.Count, project.Labels);
        if (result.Problem is not null)
            return result.IsConflict ? Problems.Conflict(result.Field == "hotkey" ? "Hotkey taken" : "Label name taken", result.Problem) : Problems.Invalid(result.Field ?? "name", result.Problem);
        db.Labels.Add(result.Label!);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (ImageUnitOfWork.IsRace(e)) { return Changed(); }
        return TypedResults.Created($"/api/projects/{projectId}/labels/{result.Label!.Id}", LabelDto.From(result.Label));
    }

    private static async Task<Results<Ok<LabelDto>, ValidationProblem, ProblemHttpResult>> UpdateLabel(
        Guid projectId, Guid labelId, UpdateLabelRequest request, VisionLabelDb db, CancellationToken ct)
    {
        var label = await db.Labels.FirstOrDefaultAsync(l => l.Id == labelId && l.ProjectId == projectId, ct);
        if (label is null) return Problems.NotFound("Label", labelId);
        if (request.Name is not null)
        {
            if (LabelRules.NameProblem(request.Name) is { } problem) return Problems.Invalid("name", problem);
            string name = request.Name.Trim();
            if (await db.Labels.AnyAsync(l => l.ProjectId == projectId && l.Name == name && l.Id != labelId, ct))
                return Problems.Conflict("Label name taken", $"The project already has a label named '{name}'.");
            label.Name = name;
        }
        if (request.Color is not null)
        {
            if (LabelRules.NormalizeColor(request.Color) is not { } color) return Problems.Invalid("color", $"'{request.Color}' is not a colour; use #rrggbb.");
            label.Color = color;
        }
        if (request.Order is { } order) label.Order = order;
        if (request.RequiredF1 is { } required) label.RequiredF1 = required == 0 ? null : required;
        if (request.Hotkey is not null)
        {
            if (LabelRules.HotkeyProblem(request.Hotkey, out var hotkey) is { } problem) return Problems.Invalid("hotkey", problem);
            if (hotkey is not null && await db.Labels.Where(l => l.ProjectId == projectId && l.Id != labelId && l.Hotkey == hotkey).Select(l => l.Name).FirstOrDefaultAsync(ct) is { } holder)
                return Problems.Conflict("Hotkey taken", $"Label '{holder}' has the key {hotkey}; give it another first.");
            label.Hotkey = hotkey;
        }
        if (request.Attributes is not null)
        {
            var (attributes, field, problem) = LabelAttributeRules.Normalize(request.Attributes);
            if (attributes is null) return Problems.Invalid($"attributes{field}", problem!);
            label.Attributes = attributes;
        }
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (ImageUnitOfWork.IsRace(e)) { return Changed(); }
        return TypedResults.Ok(LabelDto.From(label));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteLabel(
        Guid projectId, Guid labelId, bool? deleteAnnotations, HttpContext context, VisionLabelDb db, AnnotationSequencer sequencer, CancellationToken ct)
    {
        if (!await db.Labels.AnyAsync(l => l.Id == labelId && l.ProjectId == projectId, ct)) return Problems.NotFound("Label", labelId);
        // Ground truth counts as use too: deleting the label would drop it (and change every quality figure made against it).
        int used = await db.Annotations.CountAsync(a => a.LabelId == labelId, ct) + await db.GroundTruth.CountAsync(g => g.LabelId == labelId, ct);
        if (used > 0 && deleteAnnotations != true)
            return Problems.Conflict("Label in use",
                $"{used} annotation(s) or ground-truth shape(s) use this label. Relabel them first, or repeat with ?deleteAnnotations=true to delete them with the label.",
                new Dictionary<string, object?> { ["annotationCount"] = used });
        // The annotations go as delete ops, image by image, through the sequencer (everyone on an image sees them go
        // and the op log keeps them); only then the label. Repeated while an edit made meanwhile still uses the label.
        string author = context.Caller().UserName, batch = Guid.NewGuid().ToString("N");
        for (List<Guid> images; (images = await db.Annotations.Where(a => a.LabelId == labelId).Select(a => a.ImageId).Distinct().Take(500).ToListAsync(ct)).Count > 0;)
            foreach (var imageId in images)
                await sequencer.ApplyBatchAsync(imageId, author, OpOrigin.System, async scoped =>
                    (await scoped.Annotations.Where(a => a.ImageId == imageId && a.LabelId == labelId).Select(a => a.Id).ToListAsync(CancellationToken.None))
                        .Select(id => new SubmitOp($"label-delete:{batch}:{id}", imageId, OpType.Delete, id)).ToList(), ct: ct);
        await db.Labels.Where(l => l.Id == labelId).ExecuteDeleteAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>Another request took the name or key between the check and the write.</summary>
    private static ProblemHttpResult Changed() =>
        Problems.Conflict("Labels changed meanwhile", "Another label took this name or key at the same moment; reload the labels and try again.");

    private readonly record struct LabelResult(Label? Label, string? Problem, bool IsConflict = false, string? Field = null);

    private static LabelResult BuildLabel(Guid projectId, CreateLabelRequest request, int index, IReadOnlyCollection<Label> existing)
    {
        if (LabelRules.NameProblem(request.Name) is { } problem) return new(null, problem);
        string name = request.Name.Trim();
        if (existing.Any(l => l.Name == name)) return new(null, $"The project already has a label named '{name}'.", IsConflict: true);
        string? color = request.Color is null ? LabelRules.DefaultColor(index) : LabelRules.NormalizeColor(request.Color);
        if (color is null) return new(null, $"'{request.Color}' is not a colour; use #rrggbb.", Field: "color");
        // No key given: the next free one (1…9, 0, then letters); an empty one: none.
        string? hotkey = LabelRules.NextHotkey(existing.Select(l => l.Hotkey));
        if (request.Hotkey is { } asked && LabelRules.HotkeyProblem(asked, out hotkey) is { } keyProblem) return new(null, keyProblem, Field: "hotkey");
        if (hotkey is not null && existing.FirstOrDefault(l => l.Hotkey == hotkey) is { } holder)
            return new(null, $"Label '{holder.Name}' has the key {hotkey}; choose another.", IsConflict: true, Field: "hotkey");
        var (attributes, field, attributesProblem) = LabelAttributeRules.Normalize(request.Attributes);
        if (attributes is null) return new(null, attributesProblem, Field: $"attributes{field}");
        return new(new Label { ProjectId = projectId, Name = name, Color = color, Order = request.Order ?? index, Hotkey = hotkey, Attributes = attributes }, null);
    }
}
