using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Quality;

namespace VisionLabel.Bench;

/// <summary>
/// Quality report speed (issue #23): N images with P ground-truth boxes each and one submission per image of P boxes
/// (a tenth dropped, a tenth shifted off their truth, a tenth relabelled, the rest jittered), 20 annotators. Times the
/// full report, one submission's score (what runs on submit), and as the baseline of the same run the plain read of
/// the rows a full report reads.
/// </summary>
public static class QualityBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        int images = args.Images, perImage = args.PerImage;
        await using var server = await BenchServer.StartAsync("quality");
        var projectId = await SeedAsync(server.Services, images, perImage);
        Console.WriteLine($"seeded {images:N0} images, {images * perImage:N0} ground-truth boxes, {images:N0} submissions");

        using var scope = server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var reports = scope.ServiceProvider.GetRequiredService<QualityReports>();
        var submissions = await db.WorkEvents.AsNoTracking().Where(e => e.ProjectId == projectId).Select(e => new { e.Id, e.ImageId, e.Actor }).ToListAsync();

        // Warm up once (JIT, SQLite page cache), then median of the runs.
        await reports.ReportAsync(projectId, QualityGrouping.Annotator, 0.5, CancellationToken.None);
        var read = new List<double>();
        var full = new List<double>();
        for (int r = 0; r < Math.Max(3, args.Rounds); r++)
        {
            db.ChangeTracker.Clear();
            var sw = Stopwatch.StartNew();
            int n = (await db.GroundTruth.AsNoTracking().Where(g => g.ProjectId == projectId).ToListAsync()).Count
                    + (await db.SubmittedShapes.AsNoTracking().Where(s => s.ProjectId == projectId).ToListAsync()).Count;
            read.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            var report = await reports.ReportAsync(projectId, QualityGrouping.Annotator, 0.5, CancellationToken.None);
            full.Add(sw.Elapsed.TotalMilliseconds);
            if (r == 0) Console.WriteLine($"report: {report.Submissions} submissions, {report.Rows.Count} annotators, F1 {report.Rows.Average(x => x.F1):F3} (read {n:N0} rows)");
        }
        var one = new List<double>();
        foreach (var s in submissions.Take(50))
        {
            var sw = Stopwatch.StartNew();
            await reports.ScoreSubmissionAsync(projectId, s.ImageId, s.Id, s.Actor);
            one.Add(sw.Elapsed.TotalMilliseconds);
        }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        Console.WriteLine($"baseline, read every row a report reads: {Median(read):F0} ms");
        Console.WriteLine($"full report (by annotator): {Median(full):F0} ms median of {full.Count} ({Median(full) / Median(read):F2}x the read)");
        Console.WriteLine($"one submission scored (on submit): {Median(one):F1} ms median, {one.Max():F1} ms max of {one.Count}");
        return 0;
    }

    private static async Task<Guid> SeedAsync(IServiceProvider services, int images, int perImage)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var now = DateTime.UtcNow;
        var project = new Project { Name = "quality-bench", CreatedAt = now, UpdatedAt = now };
        for (int l = 0; l < 10; l++) project.Labels.Add(new Label { ProjectId = project.Id, Name = $"class{l}", Color = "#336699", Order = l });
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        var labels = project.Labels.Select(l => l.Id).ToArray();
        var random = new Random(23);
        for (int start = 0; start < images; start += 100)
        {
            for (int i = start; i < Math.Min(images, start + 100); i++)
            {
                var image = new Image
                {
                    ProjectId = project.Id, ContentHash = $"{i:x64}", FileName = $"img{i}.jpg", Width = 1280, Height = 960, Format = "jpeg", BlobKey = $"bench/{i}",
                    Status = ImageStatus.Submitted, CreatedAt = now, UpdatedAt = now, SubmittedBy = $"annotator{i % 20}", SubmittedAt = now,
                };
                db.Images.Add(image);
                var submission = new WorkEvent { ProjectId = project.Id, ImageId = image.Id, Kind = WorkEventKind.Submitted, Actor = image.SubmittedBy, At = now };
                db.WorkEvents.Add(submission);
                for (int k = 0; k < perImage; k++)
                {
                    double w = 20 + random.Next(100), h = 20 + random.Next(100), x = random.Next(0, 1280 - 240), y = random.Next(0, 960 - 240);
                    var label = labels[random.Next(labels.Length)];
                    db.GroundTruth.Add(new GroundTruth
                    {
                        ProjectId = project.Id, ImageId = image.Id, LabelId = label, Kind = AnnotationKind.Box, Geometry = Box(x, y, w, h),
                        Source = "bench", CreatedBy = "bench", CreatedAt = now,
                    });
                    int roll = random.Next(10);
                    if (roll == 0) continue; // dropped
                    (double sx, double sy, Guid sl) = roll switch { 1 => (x + w, y, label), 2 => (x, y, labels[(Array.IndexOf(labels, label) + 1) % labels.Length]), _ => (x + random.Next(-3, 4), y + random.Next(-3, 4), label) };
                    db.SubmittedShapes.Add(new SubmittedShape
                    {
                        SubmissionId = submission.Id, ProjectId = project.Id, ImageId = image.Id, Annotator = submission.Actor, AnnotationId = Guid.CreateVersion7(),
                        LabelId = sl, Kind = AnnotationKind.Box, Geometry = Box(sx, sy, w, h),
                    });
                }
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
        return project.Id;
    }

    private static string Box(double x, double y, double w, double h) =>
        System.FormattableString.Invariant($"{{\"x\":{x},\"y\":{y},\"width\":{w},\"height\":{h}}}");
}
