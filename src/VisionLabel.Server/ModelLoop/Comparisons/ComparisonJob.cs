using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Inference;
using VisionLabel.Server.Data;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.ModelLoop;

public sealed record ComparisonPayload(Guid ComparisonId);

/// <summary>
/// Runs each model of a comparison on its images, chunked like pre-labeling (one item per image; progress: images done of
/// the pool). An image's outputs from every model (mapped classes only, the best <see cref="MaxOutputs"/> per model) and
/// how much the models disagree on it land with its item in one transaction, so a retried or doubled chunk writes each
/// image once. An image any model failed on is left out (its item failed). The chunk that finds no image left pending
/// makes the pairs (<see cref="ComparisonPairing"/>): the comparison is ready when its job has completed.
/// </summary>
public sealed class ComparisonJob(IServiceScopeFactory scopes, DetectorCache detectors, IBlobStore blobs, ILogger<ComparisonJob> log) : IJobHandler
{
    public const string JobKind = "comparison";
    /// <summary>Outputs kept per model and image, the most confident first: enough for any real scene, and a bound on memory.</summary>
    public const int MaxOutputs = 100;
    /// <summary>Images run through every model before their results are written: bounds what is held in memory.</summary>
    private const int Batch = 16;
    public string Kind => JobKind;
    public string Queue => JobDispatcher.PrelabelQueue;
    public bool Chunked => true;

    internal sealed record Sample(Guid Id, string BlobKey, string FileName, int Width, int Height);
    private sealed record Member(ComparisonModel Model, DetectorLease Lease, Dictionary<int, (Guid Id, string Name)> Mapping);

    public async Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct)
    {
        Comparison comparison;
        var members = new List<Member>();
        try
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
                var payload = JsonSerializer.Deserialize<ComparisonPayload>(job.Payload, JsonSerializerOptions.Web)!;
                comparison = await db.Comparisons.AsNoTracking().FirstOrDefaultAsync(c => c.Id == payload.ComparisonId, ct)
                             ?? throw new PermanentJobFailure("the comparison was deleted before its models ran");
                var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == comparison.ProjectId).ToListAsync(ct);
                foreach (var m in await db.ComparisonModels.AsNoTracking().Where(m => m.ComparisonId == comparison.Id).OrderBy(m => m.Position).ToListAsync(ct))
                {
                    var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(x => x.Id == m.ModelId, ct)
                                ?? throw new PermanentJobFailure($"model {m.Name} was deleted before the comparison ran; start a new comparison");
                    var saved = await db.ModelMappings.AsNoTracking().FirstOrDefaultAsync(x => x.ProjectId == comparison.ProjectId && x.ModelId == model.Id, ct);
                    var mapping = ModelMappings.Describe(comparison.ProjectId, model, labels, saved).Classes
                        .Where(c => c.LabelId is not null).ToDictionary(c => c.ClassIndex, c => (c.LabelId!.Value, c.LabelName!));
                    members.Add(new Member(m, await detectors.LeaseAsync(model, ct), mapping)); // held for the chunk: not unloaded under it
                }
            }
            foreach (var batch in PendingItems(jobId, range).Chunk(Batch))
            {
                ct.ThrowIfCancellationRequested();
                var outputs = new Dictionary<(Guid Image, Guid Model), List<ComparisonOutput>>();
                var failed = new Dictionary<Guid, string>();
                foreach (var member in members)
                {
                    var options = new DetectionOptions { Confidence = comparison.Confidence, MaxDetections = MaxOutputs, Polygons = member.Lease.Detector.Spec.Task == ModelTask.Segment };
                    var items = batch.Select(i => new PipelineItem(i.FileName,
                        async token => await blobs.ReadAllBytesAsync(i.BlobKey, token) ?? throw new FileNotFoundException($"the stored file {i.BlobKey} is missing"), i));
                    await BatchPipeline.RunAsync(member.Lease.Detector, items, options, r =>
                    {
                        var image = (Sample)r.Item.Tag!;
                        if (r.Error is not null) failed[image.Id] = $"{member.Model.Name}: {r.Error}";
                        else outputs[(image.Id, member.Model.ModelId)] = r.Detections!.Where(d => member.Mapping.ContainsKey(d.ClassId)).Take(MaxOutputs)
                            .Select(d => ComparisonOutputs.From(comparison.Id, image.Id, member.Model.ModelId, member.Mapping[d.ClassId], d)).ToList();
                        return ValueTask.CompletedTask;
                    }, ct: ct);
                }
                await WriteAsync(jobId, comparison, members.Select(m => m.Model.ModelId).ToList(), batch, outputs, failed);
            }
        }
        finally
        {
            foreach (var m in members) m.Lease.Dispose();
        }
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            if (!await db.JobItems.AnyAsync(i => i.JobId == jobId && i.Status == JobItemStatus.Pending, CancellationToken.None)
                && await ComparisonPairing.PairAsync(db, comparison.Id, log) == 0)
                throw new PermanentJobFailure("no image could be run through every model (see the job's failed items); check the models and the images, and start a new comparison");
        }
    }

    /// <summary>The range's pending images, a page at a time.</summary>
    private IEnumerable<Sample> PendingItems(Guid jobId, ItemRange range)
    {
        Guid after = range.After ?? Guid.Empty, upTo = range.UpTo ?? Guid.AllBitsSet;
        while (true)
        {
            List<Sample> page;
            using (var scope = scopes.CreateScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                page = db.JobItems.Where(i => i.JobId == jobId && i.Status == JobItemStatus.Pending && i.ImageId.CompareTo(after) > 0 && i.ImageId.CompareTo(upTo) <= 0)
                    .Join(db.Images, i => i.ImageId, m => m.Id, (i, m) => new { m.Id, m.BlobKey, m.FileName, m.Width, m.Height })
                    .OrderBy(x => x.Id).Take(256).AsEnumerable().Select(x => new Sample(x.Id, x.BlobKey, x.FileName, x.Width, x.Height)).ToList();
            }
            if (page.Count == 0) yield break;
            foreach (var image in page) yield return image;
            after = page[^1].Id;
        }
    }

    /// <summary>Each image with its item, in one transaction: claimed (never twice), its outputs replaced, its disagreement kept; or failed.</summary>
    private async Task WriteAsync(Guid jobId, Comparison comparison, List<Guid> models, Sample[] batch,
        Dictionary<(Guid, Guid), List<ComparisonOutput>> outputs, Dictionary<Guid, string> failed)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        foreach (var image in batch)
        {
            // Not cancelled mid-write: an image's result lands whole or not at all.
            var now = DateTime.UtcNow;
            string? error = failed.GetValueOrDefault(image.Id);
            var status = error is null ? JobItemStatus.Done : JobItemStatus.Failed;
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            int claimed = await db.JobItems.Where(i => i.JobId == jobId && i.ImageId == image.Id && i.Status == JobItemStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, status).SetProperty(i => i.Error, error).SetProperty(i => i.FinishedAt, now), CancellationToken.None);
            if (claimed == 0) continue; // written by another attempt
            scope.ServiceProvider.GetRequiredService<Operations.ServerMetrics>().JobImage(JobKind, error is not null);
            int done = error is null ? 1 : 0;
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, j => j.Done + done).SetProperty(j => j.Failed, j => j.Failed + 1 - done), CancellationToken.None);
            await db.ComparisonOutputs.Where(o => o.ComparisonId == comparison.Id && o.ImageId == image.Id).ExecuteDeleteAsync(CancellationToken.None);
            if (error is null)
            {
                var sets = models.Select(m => outputs.GetValueOrDefault((image.Id, m)) ?? []).ToList();
                double disagreement = Math.Round(ComparisonOutputs.Disagreement(sets, image.Width, image.Height), 6);
                await db.ComparisonImages.Where(c => c.ComparisonId == comparison.Id && c.ImageId == image.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Disagreement, disagreement), CancellationToken.None);
                db.ComparisonOutputs.AddRange(sets.SelectMany(o => o));
                await db.SaveChangesAsync(CancellationToken.None);
                db.ChangeTracker.Clear();
            }
            else log.LogWarning("Comparison {ComparisonId}: {Image} left out: {Error}", comparison.Id, image.FileName, error);
            await tx.CommitAsync(CancellationToken.None);
        }
        await scope.ServiceProvider.GetRequiredService<LiveEvents>().JobChangedAsync(jobId);
    }
}
