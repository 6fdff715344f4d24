using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VisionLabel.Inference;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Inference;

/// <summary>
/// Model registry: upload an ONNX file (kept in the blob store), see what it is (task, input, classes), rename
/// its classes, and map them to each project's labels. Models no adapter understands are refused with the
/// shapes that were found.
/// </summary>
public static class ModelsApi
{
    private const long MaxModelBytes = 4L << 30;

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/models").WithTags("Models");
        models.MapPost("/", Upload).DisableAntiforgery().RequireSignedIn().DocumentMultipart("file", "names")
            .WithDescription("multipart/form-data: 'file' = the .onnx model; optional 'names' = class names file (one per line); optional 'name' field.");
        models.MapGet("/", List).RequireSignedIn();
        models.MapGet("/{modelId:guid}", Get).RequireSignedIn();
        models.MapPatch("/{modelId:guid}", Update).WithBodyLimit(Limits.SmallJsonBody).RequireAdmin();
        models.MapDelete("/{modelId:guid}", Delete).RequireAdmin();

        var mapping = app.MapGroup("/api/projects/{projectId:guid}/models/{modelId:guid}/mapping").WithTags("Models");
        mapping.MapGet("/", GetMapping).RequireProjectRole(ProjectRole.Viewer);
        mapping.MapPut("/", SaveMapping).WithBodyLimit(Limits.SmallJsonBody).RequireProjectRole(ProjectRole.Owner);
        return app;
    }

    private static async Task<Results<Created<ModelDto>, Ok<ModelDto>, ProblemHttpResult>> Upload(
        HttpContext context, VisionLabelDb db, IBlobStore blobs, IOptions<VisionLabelOptions> app, IOptions<ImageIntakeOptions> limits, CancellationToken ct)
    {
        if (!MultipartUpload.TryStart(context, limits.Value.MaxRequestBytes, out var boundary))
            return TypedResults.Problem(statusCode: 415, title: "Expected multipart/form-data",
                detail: "Send the model as a file part named 'file', e.g. curl -F file=@yolo11n.onnx -F names=@classes.txt.");

        Directory.CreateDirectory(app.Value.TempDirectory);
        string temp = Path.Combine(app.Value.TempDirectory, Guid.NewGuid().ToString("N") + ".onnx");
        try
        {
            string? fileName = null, displayName = null, namesText = null;
            UploadSpooler.Spooled spooled = default;
            var reader = new MultipartReader(boundary, context.Request.Body);
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                string field = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (field == "file" && disposition.IsFileDisposition())
                {
                    fileName = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "model.onnx");
                    spooled = await UploadSpooler.SpoolAsync(section.Body, temp, MaxModelBytes, ct);
                }
                else if (field == "names") namesText = await ReadSmallText(section.Body, ct);
                else if (field == "name") displayName = (await ReadSmallText(section.Body, ct)).Trim();
            }
            if (fileName is null) return Problems.BadRequest("No model file", "Send the .onnx file as a multipart file part named 'file'.");
            if (spooled.TooLarge) return Problems.BadRequest("Model file too large", $"{fileName} is over the {MaxModelBytes >> 30} GiB limit.");
            if (spooled.Length == 0) return Problems.BadRequest("Model file is empty", $"{fileName} has no bytes; upload the .onnx export.");

            var existing = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.ContentHash == spooled.Sha256, ct);
            if (existing is not null) return TypedResults.Ok(ModelDto.From(existing)); // same bytes: the same model

            if (displayName is { Length: > Limits.Name }) return Problems.BadRequest("Model name too long", $"name is {displayName.Length} characters; at most {Limits.Name}.");
            IReadOnlyList<string>? names = namesText is null ? null : PythonDictNames.FromLines(namesText);
            if (names is not null && ClassNamesProblem(names) is { } namesProblem) return Problems.BadRequest("Class names not valid", $"names: {namesProblem}.");
            ModelSpec spec;
            try
            {
                // Inspection always runs on CPU: it only reads the graph, and must not take GPU memory.
                using var detector = Detector.Load(await File.ReadAllBytesAsync(temp, ct), new InferenceDevice(new InferenceOptions { Device = DeviceChoice.Cpu }), names);
                spec = detector.Spec;
            }
            catch (UnsupportedModelException e)
            {
                return Problems.BadRequest("Model not supported", $"{fileName}: {e.Message}.",
                    new Dictionary<string, object?> { ["supported"] = "Ultralytics YOLO detect [b,4+nc,N] / segment [b,4+nc+nm,N]+[b,nm,h,w]; YOLOX raw grid [b,N,5+nc]" });
            }

            string key = BlobKeys.Model(spooled.Sha256);
            await blobs.PutFileAsync(key, temp, ct);
            var model = new DetectionModel
            {
                Name = string.IsNullOrEmpty(displayName) ? Path.GetFileNameWithoutExtension(fileName) : displayName,
                FileName = fileName, ContentHash = spooled.Sha256, SizeBytes = spooled.Length, BlobKey = key,
                Family = spec.Family.ToString().ToLowerInvariant(), Task = spec.Task.ToString().ToLowerInvariant(),
                InputWidth = spec.InputWidth, InputHeight = spec.InputHeight, FixedBatch = spec.FixedBatch,
                ClassNames = JsonSerializer.Serialize(spec.ClassNames), ClassNamesSource = spec.ClassNamesSource, CreatedAt = DateTime.UtcNow,
            };
            db.Models.Add(model);
            await db.SaveChangesAsync(ct);
            return TypedResults.Created($"/api/models/{model.Id}", ModelDto.From(model));
        }
        finally { File.Delete(temp); }
    }

    private static string? ClassNamesProblem(IReadOnlyList<string> names) =>
        names.Count > Limits.ClassesPerModel ? $"{names.Count} class names; at most {Limits.ClassesPerModel}" :
        names.Select((n, i) => (n, i)).FirstOrDefault(x => string.IsNullOrWhiteSpace(x.n) || x.n.Trim().Length > Limits.Name) is ({ } bad, var at)
            ? string.IsNullOrWhiteSpace(bad) ? $"class {at} has a blank name" : $"class {at}'s name is {bad.Trim().Length} characters; at most {Limits.Name}"
            : null;

    private static async Task<string> ReadSmallText(Stream body, CancellationToken ct)
    {
        using var reader = new StreamReader(body, Encoding.UTF8);
        var buffer = new char[1 << 20];
        int n = await reader.ReadBlockAsync(buffer.AsMemory(), ct);
        return new string(buffer, 0, n);
    }

    private static async Task<Ok<List<ModelDto>>> List(VisionLabelDb db, CancellationToken ct) =>
        TypedResults.Ok((await db.Models.AsNoTracking().OrderBy(m => m.Name).ToListAsync(ct)).Select(ModelDto.From).ToList());

    private static async Task<Results<Ok<ModelDto>, ProblemHttpResult>> Get(Guid modelId, VisionLabelDb db, CancellationToken ct) =>
        await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct) is { } model
            ? TypedResults.Ok(ModelDto.From(model)) : Problems.NotFound("Model", modelId);

    private static async Task<Results<Ok<ModelDto>, ValidationProblem, ProblemHttpResult>> Update(
        Guid modelId, UpdateModelRequest request, VisionLabelDb db, CancellationToken ct)
    {
        var model = await db.Models.FirstOrDefaultAsync(m => m.Id == modelId, ct);
        if (model is null) return Problems.NotFound("Model", modelId);
        if (request.Name is not null)
        {
            if (string.IsNullOrWhiteSpace(request.Name)) return Problems.Invalid("name", "a name is required");
            if (request.Name.Trim().Length > Limits.Name) return Problems.Invalid("name", $"a name is at most {Limits.Name} characters");
            model.Name = request.Name.Trim();
        }
        if (request.ClassNames is { } names)
        {
            int count = ModelDto.ClassNamesOf(model).Count;
            if (names.Count != count) return Problems.Invalid("classNames", $"the model has {count} classes; give exactly {count} names");
            if (ClassNamesProblem(names) is { } namesProblem) return Problems.Invalid("classNames", namesProblem);
            model.ClassNames = JsonSerializer.Serialize(names.Select(n => n.Trim()));
            model.ClassNamesSource = "edited";
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ModelDto.From(model));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid modelId, VisionLabelDb db, DetectorCache detectors, CancellationToken ct)
    {
        if (await db.Models.Where(m => m.Id == modelId).ExecuteDeleteAsync(ct) == 0) return Problems.NotFound("Model", modelId);
        detectors.Forget(modelId); // other processes unload it once idle (VisionLabel:Models:UnloadAfter)
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ModelMappingDto>, ProblemHttpResult>> GetMapping(Guid projectId, Guid modelId, VisionLabelDb db, CancellationToken ct)
    {
        var (model, labels, problem) = await Load(projectId, modelId, db, ct);
        if (problem is not null) return problem;
        var saved = await db.ModelMappings.AsNoTracking().FirstOrDefaultAsync(m => m.ProjectId == projectId && m.ModelId == modelId, ct);
        return TypedResults.Ok(ModelMappings.Describe(projectId, model!, labels, saved));
    }

    private static async Task<Results<Ok<ModelMappingDto>, ValidationProblem, ProblemHttpResult>> SaveMapping(
        Guid projectId, Guid modelId, SaveMappingRequest request, VisionLabelDb db, CancellationToken ct)
    {
        var (model, labels, problem) = await Load(projectId, modelId, db, ct);
        if (problem is not null) return problem;
        int classCount = ModelDto.ClassNamesOf(model!).Count;
        var map = new Dictionary<string, Guid?>();
        foreach (var c in request.Classes)
        {
            if (c.ClassIndex < 0 || c.ClassIndex >= classCount)
                return Problems.Invalid("classes", $"class index {c.ClassIndex} is out of range; the model has classes 0..{classCount - 1}");
            if (c.LabelId is { } id && labels.All(l => l.Id != id))
                return Problems.Invalid("classes", $"label {id} is not a label of project {projectId}");
            map[c.ClassIndex.ToString()] = c.LabelId;
        }
        var row = await db.ModelMappings.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.ModelId == modelId, ct);
        if (row is null) db.ModelMappings.Add(row = new ProjectModelMapping { ProjectId = projectId, ModelId = modelId, Mapping = "" });
        row.Mapping = JsonSerializer.Serialize(map);
        row.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ModelMappings.Describe(projectId, model!, labels, row));
    }

    private static async Task<(DetectionModel?, List<Label>, ProblemHttpResult?)> Load(Guid projectId, Guid modelId, VisionLabelDb db, CancellationToken ct)
    {
        var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct);
        if (model is null) return (null, [], Problems.NotFound("Model", modelId));
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return (null, [], Problems.NotFound("Project", projectId));
        return (model, await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToListAsync(ct), null);
    }
}
