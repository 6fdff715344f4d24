using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Inference;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Live;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Inference;

/// <summary>Parameters fixed at enqueue time, so a retried or resumed job does exactly what was asked.</summary>
public sealed record PrelabelPayload(Guid ModelId, float Confidence, float? Iou, Dictionary<int, Guid> Mapping, bool ReplaceProposals, int MaxBatch);

/// <summary>
/// Runs a model over the job's pending images through the batched pipeline and writes proposals. Each image's
/// writes (old proposals of this model removed, new ones added, image status, item marked done) commit in one
/// transaction with the item's status, so an interrupted job resumes without duplicating anything.
/// Re-runs replace only this model's untouched proposals: state proposed and never edited (version 1).
/// </summary>
public sealed class PrelabelJob(IServiceScopeFactory scopes, DetectorCache detectors, IBlobStore blobs, IOptions<JobOptions> jobOptions,
    ILogger<PrelabelJob> log) : IJobHandler
{
    public const string JobKind = "prelabel";
    public string Kind => JobKind;

    private sealed record ItemTag(Guid ImageId, int Width, int Height);

    public async Task RunAsync(Guid jobId, CancellationToken ct)
    {
        PrelabelPayload payload;
        DetectionModel model;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
            payload = JsonSerializer.Deserialize<PrelabelPayload>(job.Payload)!;
            model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == payload.ModelId, ct)
                    ?? throw new InvalidOperationException($"model {payload.ModelId} was deleted; re-upload it and start a new job");
        }
        var detector = await detectors.GetAsync(model, ct);
        var options = new DetectionOptions { Confidence = payload.Confidence, Iou = payload.Iou, Polygons = detector.Spec.Task == ModelTask.Segment };

        var writer = new ResultWriter(scopes, jobId, model, payload, jobOptions.Value.WriteBatch);
        try
        {
            await BatchPipeline.RunAsync(detector, PendingItems(jobId, ct), options, r => writer.AddAsync(r, ct),
                new PipelineOptions { MaxBatch = payload.MaxBatch }, ct: ct);
            await writer.FlushAsync(ct);
        }
        finally
        {
            // Stopped or failed: let the write in flight land (it is one transaction) before the job is handed back.
            await writer.InFlight;
        }
        log.LogInformation("Prelabel job {JobId}: {Done} images written", jobId, writer.Written);
    }

    /// <summary>Pending items page by page (keyset on image id), so a 100k-image job never holds its item list in memory.</summary>
    private IEnumerable<PipelineItem> PendingItems(Guid jobId, CancellationToken ct)
    {
        Guid after = Guid.Empty;
        while (true)
        {
            List<(Guid Id, string BlobKey, string FileName, int Width, int Height)> page;
            using (var scope = scopes.CreateScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                page = db.JobItems.Where(i => i.JobId == jobId && i.Status == JobItemStatus.Pending && i.ImageId.CompareTo(after) > 0)
                    .Join(db.Images, i => i.ImageId, m => m.Id, (i, m) => new { m.Id, m.BlobKey, m.FileName, m.Width, m.Height })
                    .OrderBy(x => x.Id).Take(256).AsEnumerable()
                    .Select(x => (x.Id, x.BlobKey, x.FileName, x.Width, x.Height)).ToList();
            }
            if (page.Count == 0) yield break;
            foreach (var image in page)
            {
                ct.ThrowIfCancellationRequested();
                yield return new PipelineItem(image.FileName,
                    async token => await blobs.ReadAllBytesAsync(image.BlobKey, token)
                                   ?? throw new FileNotFoundException($"the stored file {image.BlobKey} is missing"),
                    new ItemTag(image.Id, image.Width, image.Height));
            }
            after = page[^1].Id;
        }
    }

    private sealed class ResultWriter(IServiceScopeFactory scopes, Guid jobId, DetectionModel model, PrelabelPayload payload, int batchSize)
    {
        private readonly List<PipelineResult> _pending = [];
        private readonly string _modelKey = model.Id.ToString();
        private Task _writing = Task.CompletedTask;
        public int Written { get; private set; }
        public Task InFlight => _writing;

        /// <summary>
        /// Buffers results; a full batch is written in the background while the pipeline goes on, with at most
        /// one write in flight (the next full batch waits for it), so database commits never stall inference.
        /// </summary>
        public async ValueTask AddAsync(PipelineResult result, CancellationToken ct)
        {
            _pending.Add(result);
            if (_pending.Count < batchSize) return;
            await _writing;
            var batch = _pending.ToList();
            _pending.Clear();
            _writing = WriteAsync(batch);
        }

        /// <summary>Writes what is buffered and waits for every write to land.</summary>
        public async Task FlushAsync(CancellationToken ct)
        {
            await _writing;
            if (_pending.Count == 0) return;
            var batch = _pending.ToList();
            _pending.Clear();
            await WriteAsync(batch);
        }

        private async Task WriteAsync(List<PipelineResult> batch)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            var live = scope.ServiceProvider.GetRequiredService<LiveEvents>();
            var added = new List<(Guid ImageId, List<Annotation> Annotations)>();
            int done = 0, failed = 0;
            var now = DateTime.UtcNow;

            // Not cancelled mid-transaction: a batch is small and must land whole or not at all.
            await using (var tx = await db.Database.BeginTransactionAsync(CancellationToken.None))
            {
                foreach (var r in batch)
                {
                    var tag = (ItemTag)r.Item.Tag!;
                    var status = r.Error is null ? JobItemStatus.Done : JobItemStatus.Failed;
                    int claimed = await db.JobItems.Where(i => i.JobId == jobId && i.ImageId == tag.ImageId && i.Status == JobItemStatus.Pending)
                        .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, status).SetProperty(i => i.Error, r.Error).SetProperty(i => i.FinishedAt, now), CancellationToken.None);
                    if (claimed == 0) continue; // already written (by an earlier attempt): never twice
                    if (r.Error is not null) { failed++; continue; }
                    done++;

                    if (payload.ReplaceProposals)
                        await db.Annotations.Where(a => a.ImageId == tag.ImageId && a.Source == AnnotationSourceType.Model && a.ModelId == _modelKey
                                                        && a.State == AnnotationState.Proposed && a.Version == 1)
                            .ExecuteDeleteAsync(CancellationToken.None);
                    // What people kept (edited, accepted, drawn) stays, and the model does not propose it again.
                    var kept = await db.Annotations.AsNoTracking().Where(a => a.ImageId == tag.ImageId && a.Kind == AnnotationKind.Box)
                        .Select(a => new { a.LabelId, a.Geometry }).ToListAsync(CancellationToken.None);
                    var keptBoxes = kept.Select(a => (a.LabelId, Box: BoxOf(a.Geometry))).ToList();
                    var annotations = r.Detections!.Where(d => payload.Mapping.ContainsKey(d.ClassId))
                        .Where(d => !keptBoxes.Any(k => k.LabelId == payload.Mapping[d.ClassId] && BoxF.IoU(k.Box, d.Box) > (payload.Iou ?? 0.7f)))
                        .Select(d => ToAnnotation(d, tag, now)).ToList();
                    db.Annotations.AddRange(annotations);
                    await db.Images.Where(m => m.Id == tag.ImageId && m.Status == ImageStatus.New)
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, ImageStatus.Prelabeled).SetProperty(m => m.UpdatedAt, now), CancellationToken.None);
                    added.Add((tag.ImageId, annotations));
                }
                await db.SaveChangesAsync(CancellationToken.None);
                await db.Jobs.Where(j => j.Id == jobId)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, j => j.Done + done).SetProperty(j => j.Failed, j => j.Failed + failed), CancellationToken.None);
                await tx.CommitAsync(CancellationToken.None);
            }
            Written += done;

            foreach (var (imageId, annotations) in added)
                await live.ProposalsAddedAsync(new ProposalsAdded(imageId, jobId, model.Id, annotations.Select(AnnotationDto.From).ToList()));
            await live.JobChangedAsync(jobId);
        }

        private static BoxF BoxOf(string geometry)
        {
            var g = JsonNode.Parse(geometry)!;
            return new BoxF((float)g["x"]!.GetValue<double>(), (float)g["y"]!.GetValue<double>(), (float)g["width"]!.GetValue<double>(), (float)g["height"]!.GetValue<double>());
        }

        private Annotation ToAnnotation(Detection d, ItemTag image, DateTime now)
        {
            string geometry;
            AnnotationKind kind;
            if (d.Mask is { } mask)
            {
                kind = AnnotationKind.Mask;
                var polygons = new JsonArray();
                foreach (var ring in d.Polygons ?? []) polygons.Add(new JsonArray(ring.Select(v => (JsonNode)JsonValue.Create(Math.Round(v, 2))).ToArray()));
                geometry = new JsonObject
                {
                    ["size"] = new JsonArray(mask.Height, mask.Width), ["counts"] = CocoRle.Encode(mask.Counts), ["polygons"] = polygons,
                }.ToJsonString();
            }
            else
            {
                kind = AnnotationKind.Box;
                geometry = new JsonObject
                {
                    ["x"] = Math.Round(d.Box.X, 2), ["y"] = Math.Round(d.Box.Y, 2), ["width"] = Math.Round(d.Box.Width, 2), ["height"] = Math.Round(d.Box.Height, 2),
                }.ToJsonString();
            }
            string author = $"model:{model.Name}";
            return new Annotation
            {
                ImageId = image.ImageId, LabelId = payload.Mapping[d.ClassId], Kind = kind, Geometry = geometry, Source = AnnotationSourceType.Model,
                ModelId = _modelKey, Score = Math.Round(d.Score, 5), State = AnnotationState.Proposed, Version = 1,
                CreatedBy = author, CreatedAt = now, UpdatedBy = author, UpdatedAt = now,
            };
        }
    }
}
