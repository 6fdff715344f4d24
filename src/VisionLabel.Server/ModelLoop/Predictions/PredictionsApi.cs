using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.ModelLoop.Predictions;

/// <summary>
/// Predictions import, bring your own model (docs/models-in-the-loop.md, "Predictions import"). Inline, not a job: a file
/// is read whole before anything is written (so an unreadable one is a 400 with nothing stored), then written an image at
/// a time through the write path; a million rows take a while but stay one request, and the answer is the report itself.
/// </summary>
public static class PredictionsApi
{
    public const int MaxModelName = 100;

    public static IEndpointRouteBuilder MapPredictionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/projects/{projectId:guid}/predictions", Import).WithTags("Models in the loop").DisableAntiforgery()
            .RequireProjectRole(ProjectRole.Owner).WithBodyLimit(Limits.PredictionsBody).DocumentMultipart("file").WithDescription(
                "Imports a model's predictions as proposals (state proposed, source {type: model, modelId: NAME, score}) through the write path: live to open editors, " +
                "counted in the model outcomes under NAME. ?model=NAME (1–100 printable characters) and ?format=coco|yolo. coco: a COCO results array " +
                "[{image_id (the image's COCO id, or its id) | file_name, category_id, bbox [x, y, w, h] | segmentation (polygons or RLE), score}] as the JSON body or a " +
                "multipart file, or {annotations: [...], categories: [{id, name}]} to map categories to labels by name; without categories a category_id is the label's " +
                "COCO id as a COCO export numbers it. yolo: a multipart zip of name.txt files, lines 'class cx cy w h score' or 'class x1 y1 … xn yn score' (fractions), " +
                "the class index as a YOLO export numbers labels (or named by a data.yaml in the zip). Replaces the model's untouched proposals on the images it writes to. " +
                $"Answers {{model, format, rows, created, images, replaced, refusedCount, refused: [{{row, field, problem, where}}] (the first {PredictionsImport.ListedRefusals:N0})}}: " +
                "good rows land even when others are refused. An unreadable body is a 400 naming the field.");
        return app;
    }

    private static async Task<Results<Ok<PredictionsReport>, ValidationProblem, ProblemHttpResult>> Import(Guid projectId, string? format, string? model, HttpContext context,
        VisionLabelDb db, PredictionsImport import, IOptions<DatasetOptions> datasets, IOptions<VisionLabelOptions> app, CancellationToken ct)
    {
        if (ModelProblem(model) is { } modelProblem) return Problems.Invalid("model", modelProblem);
        format = format?.Trim().ToLowerInvariant(); // as ?format= of the dataset routes, any case
        if (format is not ("coco" or "yolo")) return Problems.Invalid("format", format is null ? "give ?format=coco or ?format=yolo" : $"'{Short(format)}' is not a format; use coco or yolo");
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        PredictionFile file;
        try
        {
            file = format == "coco" ? await ReadCocoAsync(context, ct) : await ReadYoloAsync(context, datasets.Value, app.Value.TempDirectory, ct);
        }
        catch (PredictionsException e) { return Problems.Invalid(e.Field, e.Message + "; nothing was imported"); }
        // A body over the limit (BadHttpRequestException, an IOException) is left to BadRequestProblems: a 413, not a 400.
        catch (Exception e) when (e is InvalidDataException or IOException && e is not BadHttpRequestException && !ct.IsCancellationRequested)
        {
            return Problems.Invalid("body", $"the request body could not be read ({e.Message}); nothing was imported");
        }
        return TypedResults.Ok(await import.ImportAsync(projectId, model!.Trim(), file, ct));
    }

    /// <summary>
    /// 1–100 printable characters. Not a GUID (the outcomes read a GUID as a registered model's id) and no slash (the name
    /// is a path segment of the outcomes route).
    /// </summary>
    internal static string? ModelProblem(string? model)
    {
        string name = model?.Trim() ?? "";
        if (name.Length == 0) return "give the model's name as ?model=NAME; its proposals are counted under it";
        if (name.Length > MaxModelName) return $"is at most {MaxModelName} characters";
        if (name.Any(c => char.IsControl(c) || c is '/' or '\\')) return "must be printable characters, without / or \\";
        if (Guid.TryParse(name, out _)) return "is a name, not an id: a GUID would be read as a registered model's id";
        return null;
    }

    /// <summary>The JSON body, or the first file of a multipart body (a results file picked in a form).</summary>
    private static async Task<PredictionFile> ReadCocoAsync(HttpContext context, CancellationToken ct)
    {
        string field = "body";
        Stream body = context.Request.Body;
        if (MultipartUpload.TryStart(context, Limits.PredictionsBody, out string boundary))
        {
            field = "file";
            body = await FirstFileAsync(new MultipartReader(boundary, context.Request.Body), ct) ?? throw new PredictionsException("file", "the multipart body has no file part");
        }
        try
        {
            using var doc = await JsonDocument.ParseAsync(body, new JsonDocumentOptions { MaxDepth = 64 }, ct);
            return CocoPredictions.Read(doc.RootElement, PredictionsImport.MaxRows);
        }
        catch (JsonException e) { throw new PredictionsException(field, $"not JSON ({e.Message})"); }
    }

    /// <summary>The zip is spooled to a file first: a zip's directory is at its end, and ZipSource checks every entry (paths, sizes, ratios) before a byte is read.</summary>
    private static async Task<PredictionFile> ReadYoloAsync(HttpContext context, DatasetOptions options, string tempDirectory, CancellationToken ct)
    {
        if (!MultipartUpload.TryStart(context, Limits.PredictionsBody, out string boundary))
            throw new PredictionsException("file", "send the YOLO predictions as a zip file part of a multipart/form-data body");
        var part = await FirstFileAsync(new MultipartReader(boundary, context.Request.Body), ct) ?? throw new PredictionsException("file", "the multipart body has no file part");
        Directory.CreateDirectory(tempDirectory);
        string temp = Path.Combine(tempDirectory, Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            var spooled = await UploadSpooler.SpoolAsync(part, temp, Limits.PredictionsBody, ct);
            if (spooled.TooLarge) throw new PredictionsException("file", $"the zip is over {Limits.PredictionsBody:N0} bytes");
            // Text expands ~10:1; more than 1 GiB of prediction lines is past the row limit anyway.
            var limits = new DatasetOptions { MaxExpandedBytes = Math.Min(options.MaxExpandedBytes, 1L << 30), MaxCompressionRatio = options.MaxCompressionRatio, MaxUploadBytes = Limits.PredictionsBody };
            await using var stream = File.OpenRead(temp);
            ZipSource zip;
            try { zip = new ZipSource(stream, limits); }
            catch (DatasetException e) { throw new PredictionsException("file", e.Message); }
            using (zip) return await YoloPredictions.ReadAsync(zip, PredictionsImport.MaxRows, ct);
        }
        finally { File.Delete(temp); }
    }

    private static async Task<Stream?> FirstFileAsync(MultipartReader reader, CancellationToken ct)
    {
        while (await reader.ReadNextSectionAsync(ct) is { } section)
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var d) && d.IsFileDisposition()) return section.Body;
        return null;
    }

    private static string Short(string text) => text.Length > 40 ? text[..40] + "…" : text;
}
