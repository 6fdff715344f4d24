using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Datasets;

/// <summary>
/// `visionlabel import --project NAME --format coco|yolo --path PATH` and
/// `visionlabel export --project NAME --format coco|yolo-detect|yolo-segment --out FILE.zip`, working on the same
/// data directory (or configured database and store) as `serve`, which may be running at the same time.
/// </summary>
public static class DatasetCommands
{
    public static IEnumerable<Command> Create()
    {
        var data = new Option<string?>("--data") { Description = "Data directory, as for serve (default ./data)" };
        var project = new Option<string>("--project") { Description = "Project name", Required = true };

        var importFormat = new Option<string>("--format") { Description = string.Join(" | ", DatasetFormats.Importers.Keys), Required = true };
        var path = new Option<string>("--path") { Description = "Dataset folder, .zip, COCO .json or YOLO .yaml", Required = true };
        var owner = new Option<string?>("--owner") { Description = "Account (user name or e-mail) that owns the project when the import creates it; without one only admins see it until members are added" };
        var import = new Command("import", "Import a COCO or YOLO dataset into a project (created if missing)") { project, importFormat, path, owner, data };
        import.TreatUnmatchedTokensAsErrors = false;
        import.SetAction(async (parse, ct) => await ImportAsync(parse.GetValue(project)!, parse.GetValue(importFormat)!, parse.GetValue(path)!, parse.GetValue(owner),
            CommandHost.Args(parse.GetValue(data), parse.UnmatchedTokens), ct));

        var exportFormat = new Option<string>("--format") { Description = string.Join(" | ", DatasetFormats.Exporters.Keys), Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Zip file to write", Required = true };
        var states = new Option<string?>("--states") { Description = "Annotation states to export: accepted (default), or accepted,proposed" };
        var status = new Option<string?>("--status") { Description = "Only images with these statuses, e.g. approved" };
        var noImages = new Option<bool>("--no-images") { Description = "Labels only, without the image files" };
        var scores = new Option<bool>("--scores") { Description = "COCO: write each proposal's score" };
        var val = new Option<double?>("--val") { Description = "YOLO: share of images for the val split, e.g. 0.2" };
        var seed = new Option<int?>("--seed") { Description = "Seed for the train/val split (default 0)" };
        var scope = new Option<string?>("--scope") { Description = "approved (default: approved images only), all (every image; unapproved ones with nothing to export are left out) or ground-truth (the images with ground truth, with it)" };
        var slice = new Option<int?>("--slice") { Description = "YOLO: cut images larger than this side (pixels, e.g. 640) into overlapping slices with their labels" };
        var sliceOverlap = new Option<double?>("--slice-overlap") { Description = "YOLO slices: share of a slice its neighbour repeats (default 0.2)" };
        var export = new Command("export", "Export a project as a COCO or YOLO dataset zip") { project, exportFormat, output, states, status, noImages, scores, val, seed, scope, slice, sliceOverlap, data };
        export.TreatUnmatchedTokensAsErrors = false;
        export.SetAction(async (parse, ct) =>
        {
            var (options, problem) = ExportChoices.Parse(parse.GetValue(states), parse.GetValue(status), null, !parse.GetValue(noImages),
                parse.GetValue(scores), parse.GetValue(val), parse.GetValue(seed), parse.GetValue(scope), parse.GetValue(slice), parse.GetValue(sliceOverlap));
            if (problem is not null) return CommandHost.Fail(problem);
            if (options!.Slicing is not null && !parse.GetValue(exportFormat)!.StartsWith("yolo", StringComparison.Ordinal))
                return CommandHost.Fail("--slice: only the YOLO formats (yolo-detect, yolo-segment) export slices");
            return await ExportAsync(parse.GetValue(project)!, parse.GetValue(exportFormat)!, parse.GetValue(output)!, options!,
                CommandHost.Args(parse.GetValue(data), parse.UnmatchedTokens), ct);
        });
        return [import, export];
    }


    private static async Task<int> ImportAsync(string projectName, string formatName, string path, string? ownerName, string[] hostArgs, CancellationToken ct)
    {
        if (!DatasetFormats.Importers.TryGetValue(formatName, out var format)) return CommandHost.Fail($"unknown format '{formatName}'; use one of: {DatasetFormats.ImportList}");
        await using var app = await CommandHost.OpenAsync(hostArgs);
        await using var scope = app.Services.CreateAsyncScope();
        Accounts.UserAccount? owner = null;
        if (ownerName is not null && (owner = await scope.ServiceProvider.GetRequiredService<Accounts.Accounts>().FindAsync(ownerName)) is null)
            return CommandHost.Fail($"--owner: no account named '{ownerName}' (./visionlabel users add {ownerName} makes one). Nothing was imported.");
        var clock = Stopwatch.StartNew();
        try
        {
            using var source = FolderSource.FromPath(path, app.Services.GetRequiredService<IOptions<DatasetOptions>>().Value);
            var progress = new Progress<ImportProgress>(p => Console.Error.WriteLine($"  {p.ImagesDone}/{p.ImagesTotal} images"));
            var report = await scope.ServiceProvider.GetRequiredService<DatasetImport>().IntoProjectNamedAsync(projectName, format, source, progress, ct, owner?.Id);
            Console.Error.WriteLine($"{(report.ProjectCreated ? "Created" : "Filled")} project '{report.ProjectName}' ({report.ProjectId}) from {path} in {clock.Elapsed.TotalSeconds:0.0} s: " +
                                    $"{report.ImagesCreated} new images, {report.ImagesAlreadyPresent} already present, {report.AnnotationsCreated} annotations, " +
                                    $"{report.LabelsCreated} new labels, {report.Skipped.Count} skipped");
            foreach (var note in report.Notes) Console.Error.WriteLine($"  note: {note}");
            if (report.ProjectCreated)
                Console.Error.WriteLine(owner is null
                    ? "  note: the project has no members yet, so only admins see it; add members on its page, or import with --owner NAME"
                    : $"  owned by {owner.UserName}");
            else if (owner is not null)
                Console.Error.WriteLine($"  note: --owner applies only to a project the import creates; '{report.ProjectName}' existed, so its members are unchanged (add {owner.UserName} on its page)");
            foreach (var s in report.Skipped) Console.Error.WriteLine($"  skipped {s.Item}: {s.Reason}");
            Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            return 0;
        }
        catch (DatasetException e) { return CommandHost.Fail($"{e.Message}. Nothing was imported."); }
    }

    private static async Task<int> ExportAsync(string projectName, string formatName, FileInfo output, ExportOptions options, string[] hostArgs, CancellationToken ct)
    {
        if (!DatasetFormats.Exporters.TryGetValue(formatName, out var format)) return CommandHost.Fail($"unknown format '{formatName}'; use one of: {DatasetFormats.ExportList}");
        await using var app = await CommandHost.OpenAsync(hostArgs);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Name == projectName, ct);
        if (project is null) return CommandHost.Fail($"no project named '{projectName}'");
        var clock = Stopwatch.StartNew();
        string temp = output.FullName + ".partial";
        ExportSummary summary;
        // Written under a temporary name and renamed when complete, so a failed export never looks finished.
        try
        {
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                summary = await scope.ServiceProvider.GetRequiredService<DatasetExport>().WriteAsync(project, format, options, file, ct);
            File.Move(temp, output.FullName, overwrite: true);
        }
        finally { File.Delete(temp); }
        output.Refresh();
        Console.Error.WriteLine($"Exported '{project.Name}' as {format.Format}: {summary.Images} images, {summary.Annotations} annotations " +
                                $"({summary.SkippedAnnotations} left out) in {clock.Elapsed.TotalSeconds:0.0} s -> {output.FullName} ({output.Length / 1e6:0.0} MB)");
        foreach (var note in summary.Notes) Console.Error.WriteLine($"  note: {note}");
        // stdout is the report (the same as the zip's visionlabel-export.json), for scripts.
        Console.WriteLine(JsonSerializer.Serialize(summary, ExportContext.ManifestJson));
        return 0;
    }
}
