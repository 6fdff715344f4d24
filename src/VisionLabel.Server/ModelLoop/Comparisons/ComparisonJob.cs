using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Inference;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Storage;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.ModelLoop;

public sealed record ComparisonPayload(Guid ComparisonId);

/// <summary>
/// Runs each model of a comparison on its images (progress: model runs done of images × models), keeps the outputs
/// mapped to the project's labels, narrows a disputed sample to the images the models disagree on most, and makes the
/// pairs to judge (each two models on each image, shown in a random order). One Hangfire job on the pre-labeling queue;
/// a retry starts over (the outputs of a failed attempt are replaced).
/// </summary>
public sealed class ComparisonJob(IServiceScopeFactory scopes, DetectorCache detectors, IBlobStore blobs, ILogger<ComparisonJob> log) : IJobHandler
{
    public const string JobKind = "comparison";
    public string Kind => JobKind;
    public string Queue => JobDispatcher.PrelabelQueue;

    private sealed record Sample(Guid Id, string BlobKey, string FileName, int Width, int Height);

    public async Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var live = scope.ServiceProvider.GetRequiredService<LiveEvents>();
        var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        var payload = JsonSerializer.Deserialize<ComparisonPayload>(job.Payload, JsonSerializerOptions.Web)!;
        var comparison = await db.Comparisons.AsNoTracking().FirstOrDefaultAsync(c => c.Id == payload.ComparisonId, ct)
                         ?? throw new PermanentJobFailure("the comparison was deleted before its models ran");
        var members = await db.ComparisonModels.AsNoTracking().Where(m => m.ComparisonId == comparison.Id).OrderBy(m => m.Position).ToListAsync(ct);
        var images = await db.ComparisonImages.AsNoTracking().Where(i => i.ComparisonId == comparison.Id)
            .Join(db.Images, c => c.ImageId, i => i.Id, (c, i) => new { i.Id, i.BlobKey, i.FileName, i.Width, i.Height })
            .OrderBy(i => i.Id).Select(i => new Sample(i.Id, i.BlobKey, i.FileName, i.Width, i.Height)).ToListAsync(ct);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == comparison.ProjectId).ToListAsync(ct);

        await db.ComparisonOutputs.Where(o => o.ComparisonId == comparison.Id).ExecuteDeleteAsync(ct); // a retry starts over
        int total = images.Count * members.Count, done = 0;
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Total, total).SetProperty(j => j.Done, 0), ct);
        var outputs = new Dictionary<(Guid Image, Guid Model), List<ComparisonOutput>>();
        foreach (var member in members)
        {
            var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == member.ModelId, ct)
                        ?? throw new PermanentJobFailure($"model {member.Name} was deleted before the comparison ran; start a new comparison");
            var saved = await db.ModelMappings.AsNoTracking().FirstOrDefaultAsync(m => m.ProjectId == comparison.ProjectId && m.ModelId == model.Id, ct);
            var mapping = ModelMappings.Describe(comparison.ProjectId, model, labels, saved).Classes
                .Where(c => c.LabelId is not null).ToDictionary(c => c.ClassIndex, c => c.LabelId!.Value);
            using var lease = await detectors.LeaseAsync(model, ct);
            var options = new DetectionOptions { Confidence = comparison.Confidence, Polygons = lease.Detector.Spec.Task == ModelTask.Segment };
            var items = images.Select(i => new PipelineItem(i.FileName,
                async token => await blobs.ReadAllBytesAsync(i.BlobKey, token) ?? throw new FileNotFoundException($"the stored file {i.BlobKey} is missing"), i));
            await BatchPipeline.RunAsync(lease.Detector, items, options, async r =>
            {
                var image = (Sample)r.Item.Tag!;
                if (r.Error is not null) log.LogWarning("Comparison {ComparisonId}: {Model} on {Image} failed: {Error}", comparison.Id, member.Name, image.FileName, r.Error);
                outputs[(image.Id, model.Id)] = (r.Detections ?? []).Where(d => mapping.ContainsKey(d.ClassId))
                    .Select(d => Output(comparison.Id, image.Id, model.Id, mapping[d.ClassId], d)).ToList();
                if (++done % 8 == 0 || done == total)
                {
                    await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, done), CancellationToken.None);
                    await live.JobChangedAsync(jobId);
                }
            }, ct: ct);
        }

        var kept = images;
        if (comparison.Sampling == ComparisonSampling.Disputed)
        {
            var disagreement = images.ToDictionary(i => i.Id, i => Disagreement(members, i, outputs));
            kept = images.OrderByDescending(i => disagreement[i.Id]).ThenBy(i => i.Id).Take(comparison.SampleSize).ToList();
            var keptIds = kept.Select(i => i.Id).ToHashSet();
            foreach (var image in images.Where(i => !keptIds.Contains(i.Id)))
                await db.ComparisonImages.Where(c => c.ComparisonId == comparison.Id && c.ImageId == image.Id).ExecuteDeleteAsync(CancellationToken.None);
            foreach (var image in kept)
            {
                double d = Math.Round(disagreement[image.Id], 6);
                await db.ComparisonImages.Where(c => c.ComparisonId == comparison.Id && c.ImageId == image.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Disagreement, d), CancellationToken.None);
            }
        }

        // The outputs and the pairs land together: judging starts when the job has completed.
        await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
        await db.ComparisonPairs.Where(p => p.ComparisonId == comparison.Id).ExecuteDeleteAsync(CancellationToken.None);
        db.ComparisonOutputs.AddRange(kept.SelectMany(i => members.SelectMany(m => outputs.GetValueOrDefault((i.Id, m.ModelId)) ?? [])));
        db.ComparisonPairs.AddRange(Pairs(comparison, kept.Select(i => i.Id).ToList(), members.Select(m => m.ModelId).ToList()));
        await db.SaveChangesAsync(CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        log.LogInformation("Comparison {ComparisonId}: {Models} models on {Images} images", comparison.Id, members.Count, kept.Count);
    }

    private static ComparisonOutput Output(Guid comparisonId, Guid imageId, Guid modelId, Guid labelId, Detection d)
    {
        Geometry geometry = d.Mask is { } mask
            ? new MaskGeometry(mask.Height, mask.Width, mask.Counts, (d.Polygons ?? []).Select(r => r.Select(v => Math.Round((double)v, 2)).ToArray()).ToList())
            : new BoxGeometry(Math.Round(d.Box.X, 2), Math.Round(d.Box.Y, 2), Math.Round(d.Box.Width, 2), Math.Round(d.Box.Height, 2));
        return new ComparisonOutput
        {
            ComparisonId = comparisonId, ImageId = imageId, ModelId = modelId, LabelId = labelId, Kind = geometry.Kind,
            Geometry = geometry.ToJson().ToJsonString(), Score = Math.Round(d.Score, 5),
        };
    }

    /// <summary>1 − the mean F1 between each two models' outputs on the image (IoU 0.5, same label; two empty outputs agree).</summary>
    private static double Disagreement(List<ComparisonModel> members, Sample image, Dictionary<(Guid, Guid), List<ComparisonOutput>> outputs)
    {
        var sets = members.Select(m => (outputs.GetValueOrDefault((image.Id, m.ModelId)) ?? [])
            .Select(o => new MatchItem(o.Id, o.LabelId, Quality.QualityReports.ShapeOf(o.Kind, o.Geometry))).ToList()).ToList();
        double sum = 0;
        int pairs = 0;
        for (int a = 0; a < sets.Count; a++)
            for (int b = a + 1; b < sets.Count; b++, pairs++)
                sum += sets[a].Count == 0 && sets[b].Count == 0 ? 1 : ShapeMatcher.Match(sets[a], sets[b], image.Height, image.Width).Counts.F1;
        return pairs == 0 ? 0 : 1 - sum / pairs;
    }

    /// <summary>Each two models on each image, which is shown as A drawn at random, in a random judging order (from the comparison's seed).</summary>
    internal static List<ComparisonPair> Pairs(Comparison comparison, IReadOnlyList<Guid> images, IReadOnlyList<Guid> models)
    {
        var random = new Random(comparison.Seed);
        var pairs = new List<ComparisonPair>();
        foreach (var image in images)
            for (int a = 0; a < models.Count; a++)
                for (int b = a + 1; b < models.Count; b++)
                {
                    bool swap = random.Next(2) == 1;
                    pairs.Add(new ComparisonPair { ComparisonId = comparison.Id, ImageId = image, ModelA = swap ? models[b] : models[a], ModelB = swap ? models[a] : models[b] });
                }
        var order = Enumerable.Range(0, pairs.Count).OrderBy(_ => random.Next()).ToList();
        for (int i = 0; i < pairs.Count; i++) pairs[i].Order = order[i];
        return pairs;
    }
}
