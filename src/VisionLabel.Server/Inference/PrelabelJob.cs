using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Imaging;
using VisionLabel.Inference;
using VisionLabel.Inference.Tiling;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Images;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Inference;

/// <summary>Parameters fixed at enqueue time, so a retried or resumed job does exactly what was asked.</summary>
/// Tiling and Overlap: how large images are sliced (jobs enqueued before tiling existed read as auto, 0.2).
public sealed record PrelabelPayload(Guid ModelId, float Confidence, float? Iou, Dictionary<int, Guid> Mapping, bool ReplaceProposals, int MaxBatch, bool IncludeReviewed = false,
    TilingMode Tiling = TilingMode.Auto, double Overlap = 0.2);

/// <summary>
/// Runs a model over the job's pending images through the batched pipeline and writes proposals through the
/// sequencer. Each image's writes (old proposals of this model removed, new ones added, image status, item marked
/// done) commit in one transaction with the item's status, so an interrupted job resumes without duplicating anything.
/// Re-runs replace only this model's untouched proposals: state proposed and never edited (version 1).
/// </summary>
public sealed class PrelabelJob(IServiceScopeFactory scopes, AnnotationSequencer sequencer, DetectorCache detectors, IBlobStore blobs, IOptions<JobOptions> jobOptions,
    IOptions<ImageIntakeOptions> intake, IOptions<VisionLabelOptions> app,
    ILogger<PrelabelJob> log) : IJobHandler
{
    public const string JobKind = "prelabel";
    public string Kind => JobKind;
    public string Queue => JobDispatcher.PrelabelQueue;
    public bool Chunked => true;

    private sealed record ItemTag(Guid ImageId, int Width, int Height);

    public async Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct)
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
        using var lease = await detectors.LeaseAsync(model, ct); // held until the chunk is done: the session is not unloaded under it
        var detector = lease.Detector;
        var options = new DetectionOptions { Confidence = payload.Confidence, Iou = payload.Iou, Polygons = detector.Spec.Task == ModelTask.Segment };

        var writer = new ResultWriter(scopes, sequencer, jobId, model, payload, jobOptions.Value.WriteBatch);
        try
        {
            await BatchPipeline.RunAsync(detector, PendingItems(jobId, range, ct), options, r => writer.AddAsync(r, ct),
                new PipelineOptions { MaxBatch = payload.MaxBatch, Tiling = new TilingOptions { Mode = payload.Tiling, Overlap = payload.Overlap } }, ct: ct);
            await writer.FlushAsync(ct);
        }
        finally
        {
            // Stopped or failed: let the write in flight land (it is one transaction) before the job is handed back.
            await writer.InFlight;
        }
        log.LogInformation("Prelabel job {JobId}: {Done} images written", jobId, writer.Written);
    }

    /// <summary>The range's pending items page by page (keyset on image id), so a big range is never held in memory.</summary>
    private IEnumerable<PipelineItem> PendingItems(Guid jobId, ItemRange range, CancellationToken ct)
    {
        Guid after = range.After ?? Guid.Empty;
        Guid upTo = range.UpTo ?? Guid.AllBitsSet;
        while (true)
        {
            List<Image> page;
            using (var scope = scopes.CreateScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                page = db.JobItems.Where(i => i.JobId == jobId && i.Status == JobItemStatus.Pending && i.ImageId.CompareTo(after) > 0 && i.ImageId.CompareTo(upTo) <= 0)
                    .Join(db.Images, i => i.ImageId, m => m.Id, (i, m) => m)
                    .OrderBy(x => x.Id).Take(256).AsNoTracking().ToList();
            }
            if (page.Count == 0) yield break;
            foreach (var image in page)
            {
                ct.ThrowIfCancellationRequested();
                yield return new PipelineItem(image.FileName,
                    async token => await blobs.ReadAllBytesAsync(image.BlobKey, token) ?? throw new FileNotFoundException($"the stored file {image.BlobKey} is missing"),
                    new ItemTag(image.Id, image.Width, image.Height))
                {
                    // A large image (one that gets a pyramid) is read from its file a slice at a time: never decoded whole.
                    Regions = Pyramids.Needed(ImageFormats.Parse(image.Format), (long)image.Width * image.Height, intake.Value)
                        ? new OriginalRegions(blobs, image, app.Value.TempDirectory) : null,
                };
            }
            after = page[^1].Id;
        }
    }

    private sealed class ResultWriter(IServiceScopeFactory scopes, AnnotationSequencer sequencer, Guid jobId, DetectionModel model, PrelabelPayload payload, int batchSize)
    {
        private readonly string _author = $"model:{model.Name}";
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

        /// <summary>
        /// Each image's result goes through the sequencer as one batch: its item is claimed, this model's untouched
        /// proposals are deleted and the new ones created as ops, and the image moves to prelabeled, all in one
        /// transaction; so everyone on the image receives the change as Applied ops and an interrupted job
        /// resumes without writing anything twice (a claimed item is never claimed again).
        /// </summary>
        private async Task WriteAsync(List<PipelineResult> batch)
        {
            await using var scope = scopes.CreateAsyncScope();
            var live = scope.ServiceProvider.GetRequiredService<LiveEvents>();
            var metrics = scope.ServiceProvider.GetRequiredService<Operations.ServerMetrics>();
            foreach (var r in batch)
            {
                // Not cancelled mid-write: an image's result must land whole or not at all.
                var tag = (ItemTag)r.Item.Tag!;
                var now = DateTime.UtcNow;
                var status = r.Error is null ? JobItemStatus.Done : JobItemStatus.Failed;
                var outcome = await sequencer.ApplyBatchAsync(tag.ImageId, _author, OpOrigin.Job, async db =>
                {
                    // Under the image's lock: an image submitted or approved since the job started is left alone too.
                    var imageStatus = await db.Images.Where(i => i.Id == tag.ImageId).Select(i => i.Status).FirstAsync(CancellationToken.None);
                    if (!payload.IncludeReviewed && imageStatus is ImageStatus.Submitted or ImageStatus.Approved && r.Error is null)
                    {
                        int skipped = await db.JobItems.Where(i => i.JobId == jobId && i.ImageId == tag.ImageId && i.Status == JobItemStatus.Pending)
                            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, JobItemStatus.Done).SetProperty(i => i.Error, $"skipped: the image is {Common.ApiEnum.Name(imageStatus)}").SetProperty(i => i.FinishedAt, now), CancellationToken.None);
                        if (skipped == 0) return null;
                        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, j => j.Done + 1), CancellationToken.None);
                        return [];
                    }
                    int claimed = await db.JobItems.Where(i => i.JobId == jobId && i.ImageId == tag.ImageId && i.Status == JobItemStatus.Pending)
                        .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, status).SetProperty(i => i.Error, r.Error).SetProperty(i => i.FinishedAt, now), CancellationToken.None);
                    if (claimed == 0) return null; // already written (by an earlier attempt): never twice
                    int done = r.Error is null ? 1 : 0;
                    await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, j => j.Done + done).SetProperty(j => j.Failed, j => j.Failed + 1 - done), CancellationToken.None);
                    if (r.Error is not null) return [];
                    var ops = await OpsAsync(db, r, tag);
                    // The image's model confidence (the queue's "lowest confidence first", active learning by margin sampling): the
                    // smallest score margin (score − the runner-up class's) of what the model proposed, so the image with the object
                    // the model was least sure of comes first; 0 for nothing found (an image the model saw nothing in is worth a look).
                    var margins = r.Detections!.Where(d => payload.Mapping.ContainsKey(d.ClassId)).Select(d => (double)d.Margin).ToList();
                    double confidence = margins.Count == 0 ? 0 : Math.Round(margins.Min(), 5);
                    await db.Images.Where(i => i.Id == tag.ImageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.Confidence, confidence), CancellationToken.None);
                    return ops;
                }, r.Error is null ? ImageEvent.Prelabeled : null, CancellationToken.None, freshIds: true); // ids minted below; the item claim makes them once-only
                if (outcome is not null) metrics.JobImage(JobKind, r.Error is not null);
                if (outcome is null || r.Error is not null) continue;
                Written++;
            }
            await live.JobChangedAsync(jobId);
        }

        /// <summary>Deletes of this model's untouched proposals (on a re-run that replaces them), then creates of what is new.</summary>
        private async Task<IReadOnlyList<SubmitOp>> OpsAsync(VisionLabelDb db, PipelineResult r, ItemTag tag)
        {
            var ops = new List<SubmitOp>();
            // One read of the image's annotations: this model's untouched proposals are replaced (on a re-run that asks
            // for it); what people kept (edited, accepted, drawn) stays, and the model does not propose it again.
            var existing = await db.Annotations.AsNoTracking().Where(a => a.ImageId == tag.ImageId)
                .Select(a => new { a.Id, a.LabelId, a.Kind, a.Geometry, a.Source, a.ModelId, a.State, a.Version }).ToListAsync(CancellationToken.None);
            var replaced = payload.ReplaceProposals
                ? existing.Where(a => a.Source == AnnotationSourceType.Model && a.ModelId == _modelKey && a.State == AnnotationState.Proposed && a.Version == 1)
                    .Select(a => a.Id).ToHashSet()
                : [];
            ops.AddRange(replaced.Order().Select(id => new SubmitOp($"job:{jobId}:delete:{id}", tag.ImageId, OpType.Delete, id)));
            var keptBoxes = existing.Where(a => a.Kind == AnnotationKind.Box && !replaced.Contains(a.Id)).Select(a => (a.LabelId, Box: BoxOf(a.Geometry))).ToList();
            foreach (var d in r.Detections!)
            {
                if (!payload.Mapping.TryGetValue(d.ClassId, out var labelId)) continue;
                if (keptBoxes.Any(k => k.LabelId == labelId && BoxF.IoU(k.Box, d.Box) > (payload.Iou ?? 0.7f))) continue;
                var id = MonotonicGuid.Next();
                ops.Add(new SubmitOp($"job:{jobId}:create:{id}", tag.ImageId, OpType.Create, id, Changes(d, labelId)));
            }
            return ops;
        }

        private static BoxF BoxOf(string geometry)
        {
            var b = (BoxGeometry)Geometry.Read(AnnotationKind.Box, geometry);
            return new BoxF((float)b.X, (float)b.Y, (float)b.Width, (float)b.Height);
        }

        private JsonElement Changes(Detection d, Guid labelId)
        {
            Geometry geometry = d.Mask is { } mask
                ? new MaskGeometry(mask.Height, mask.Width, mask.Counts, (d.Polygons ?? []).Select(r => r.Select(v => Math.Round((double)v, 2)).ToArray()).ToList())
                : new BoxGeometry(Math.Round(d.Box.X, 2), Math.Round(d.Box.Y, 2), Math.Round(d.Box.Width, 2), Math.Round(d.Box.Height, 2));
            return JsonSerializer.SerializeToElement(new JsonObject
            {
                ["labelId"] = labelId, ["kind"] = ApiEnum.Name(geometry.Kind), ["geometry"] = geometry.ToJson(), ["state"] = "proposed",
                ["source"] = new JsonObject { ["type"] = "model", ["modelId"] = _modelKey, ["score"] = Math.Round(d.Score, 5) },
            });
        }
    }
}
