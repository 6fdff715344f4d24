using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Analytics;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Health;

namespace VisionLabel.Bench;

/// <summary>
/// Dataset health and the people figures at scale (issue #24): N images (perceptual hashes already computed, one in a
/// thousand a near copy of the one before), P accepted boxes each, each box's create op by one of 20 annotators, a
/// lease and a submission per image. Times the health computation (hashing excluded: it is done once per image) with
/// the managed heap's peak while it runs, and the people report; the baseline of the same run is the plain read of the
/// rows each one reads.
/// </summary>
public static class HealthBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        int images = args.Images, perImage = args.PerImage;
        await using var server = await BenchServer.StartAsync("health");
        var sw = Stopwatch.StartNew();
        var projectId = await SeedAsync(server.Services, images, perImage);
        Console.WriteLine($"seeded {images:N0} images, {(long)images * perImage:N0} annotations and ops in {sw.Elapsed.TotalSeconds:F0} s");

        using var scope = server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var health = scope.ServiceProvider.GetRequiredService<DatasetHealth>();
        var people = scope.ServiceProvider.GetRequiredService<PeopleAnalytics>();
        var project = await db.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId);

        sw.Restart();
        long rows = await db.Annotations.AsNoTracking().Where(a => db.Images.Any(i => i.Id == a.ImageId && i.ProjectId == projectId)).Select(a => a.Geometry.Length).SumAsync(x => (long)x);
        double read = sw.Elapsed.TotalSeconds;
        GC.Collect();
        long before = GC.GetTotalMemory(true), peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested) { peak = Math.Max(peak, GC.GetTotalMemory(false)); await Task.Delay(20); }
        });
        sw.Restart();
        var result = await health.ComputeAsync(new HealthPayload(projectId, 0.2, 0, HealthApi.DefaultMaxDistance), 0, DateTime.UtcNow, CancellationToken.None);
        double compute = sw.Elapsed.TotalSeconds;
        sampling.Cancel();
        await sampler;
        Console.WriteLine($"baseline, read every annotation's geometry: {read:F1} s ({rows:N0} bytes)");
        Console.WriteLine($"health: {compute:F1} s ({compute / read:F1}x the read); {result.NearDuplicates.Count:N0} near-duplicate pairs, {result.Leaks.Count:N0} leaks, " +
                          $"{result.BoxOutliers.Count:N0} box outliers; managed heap {before / 1e6:F0} MB before, peak {peak / 1e6:F0} MB during");

        var timings = new List<double>();
        sw.Restart();
        long ops = await db.AnnotationOps.AsNoTracking().LongCountAsync();
        double opsRead = sw.Elapsed.TotalMilliseconds;
        double first = 0;
        for (int r = 0; r <= Math.Max(3, args.Rounds); r++)
        {
            sw.Restart();
            var report = await people.ReportAsync(project, null, null, null, null, CancellationToken.None);
            if (r == 0) first = sw.Elapsed.TotalMilliseconds; else timings.Add(sw.Elapsed.TotalMilliseconds);
            if (r == 0) Console.WriteLine($"people: {report.People.Count} people, {report.People.Sum(p => p.ObjectsCreated):N0} objects created");
        }
        Console.WriteLine($"baseline, count the op log ({ops:N0} ops): {opsRead:F0} ms");
        Console.WriteLine($"people report, first open (counts the whole op log into tallies once): {first:F0} ms");
        Console.WriteLine($"people report, later opens: {timings.Order().ElementAt(timings.Count / 2):F0} ms median of {timings.Count}");
        return 0;
    }

    private static async Task<Guid> SeedAsync(IServiceProvider services, int images, int perImage)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var now = DateTime.UtcNow;
        var project = new Project { Name = "health-bench", CreatedAt = now, UpdatedAt = now };
        for (int l = 0; l < 10; l++) project.Labels.Add(new Label { ProjectId = project.Id, Name = $"class{l}", Color = "#336699", Order = l });
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        var labels = project.Labels.Select(l => l.Id).ToArray();
        var random = new Random(24);
        ulong previous = 0;
        for (int start = 0; start < images; start += 500)
        {
            for (int i = start; i < Math.Min(images, start + 500); i++)
            {
                ulong hash = i % 1000 == 999 ? previous ^ 0b1011 : (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
                previous = hash;
                string annotator = $"annotator{i % 20}";
                var at = now.AddSeconds(-30.0 * (images - i)); // history: one image every 30 s before now (35 days at 100,000)
                var image = new Image
                {
                    ProjectId = project.Id, ContentHash = $"{i:x64}", FileName = $"img{i}.jpg", Width = 1280, Height = 960, Format = "jpeg", BlobKey = $"bench/{i}",
                    Status = ImageStatus.Approved, ReviewedBy = "reviewer", CreatedAt = now, UpdatedAt = now, SubmittedBy = annotator, SubmittedAt = now, PerceptualHash = (long)hash,
                };
                db.Images.Add(image);
                db.WorkEvents.Add(new WorkEvent { ProjectId = project.Id, ImageId = image.Id, Kind = WorkEventKind.Leased, Actor = annotator, Stage = WorkStage.Annotate, At = at.AddSeconds(-60) });
                db.WorkEvents.Add(new WorkEvent { ProjectId = project.Id, ImageId = image.Id, Kind = WorkEventKind.Submitted, Actor = annotator, At = at });
                db.WorkEvents.Add(new WorkEvent { ProjectId = project.Id, ImageId = image.Id, Kind = WorkEventKind.Approved, Actor = "reviewer", Stage = WorkStage.Review, At = at.AddSeconds(20) });
                for (int k = 0; k < perImage; k++)
                {
                    double w = 20 + random.Next(100), h = 20 + random.Next(100), x = random.Next(0, 1280 - 240), y = random.Next(0, 960 - 240);
                    string geometry = System.FormattableString.Invariant($"{{\"x\":{x},\"y\":{y},\"width\":{w},\"height\":{h}}}");
                    var a = new Annotation
                    {
                        ImageId = image.Id, LabelId = labels[random.Next(labels.Length)], Kind = AnnotationKind.Box, Geometry = geometry, State = AnnotationState.Accepted,
                        Source = AnnotationSourceType.Human, CreatedBy = annotator, UpdatedBy = annotator, CreatedAt = now, UpdatedAt = now,
                    };
                    db.Annotations.Add(a);
                    db.AnnotationOps.Add(new AnnotationOp
                    {
                        ImageId = image.Id, Seq = k + 1, ClientOpId = $"bench-{i}-{k}", AuthorId = annotator, Type = OpType.Create, AnnotationId = a.Id,
                        Changes = geometry, AppliedAt = at,
                    });
                }
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
        return project.Id;
    }
}
