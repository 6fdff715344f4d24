using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.ModelLoop;

/// <summary>
/// The end of a comparison's run (the chunk that finds no image pending): keeps the sample (a disputed one: the images
/// the models disagree on most; images a model failed on are left out), scores each model against the ground truth once,
/// and makes one pair per image and two models in a random judging order. Once: a guard on the comparison's row, in the
/// same transaction, lets one chunk do it.
/// </summary>
internal static class ComparisonPairing
{
    /// <returns>How many images were kept; -1 when another chunk did it.</returns>
    public static async Task<int> PairAsync(VisionLabelDb db, Guid comparisonId, ILogger log)
    {
        await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var now = DateTime.UtcNow;
        if (await db.Comparisons.Where(c => c.Id == comparisonId && c.PairedAt == null).ExecuteUpdateAsync(s => s.SetProperty(c => c.PairedAt, now), CancellationToken.None) == 0)
            return -1; // another chunk did it
        var comparison = await db.Comparisons.AsNoTracking().FirstAsync(c => c.Id == comparisonId, CancellationToken.None);
        var ran = await db.ComparisonImages.AsNoTracking().Where(i => i.ComparisonId == comparisonId && i.Disagreement != null)
            .OrderByDescending(i => i.Disagreement).ThenBy(i => i.ImageId).Select(i => i.ImageId).ToListAsync(CancellationToken.None);
        var kept = ran.Take(comparison.SampleSize).ToList(); // a random sample is its whole pool; a disputed one, the most disputed
        var keptSet = kept.ToHashSet();
        var dropped = await db.ComparisonImages.Where(i => i.ComparisonId == comparisonId).Select(i => i.ImageId).ToListAsync(CancellationToken.None);
        foreach (var chunk in dropped.Where(id => !keptSet.Contains(id)).Chunk(500))
        {
            await db.ComparisonOutputs.Where(o => o.ComparisonId == comparisonId && chunk.Contains(o.ImageId)).ExecuteDeleteAsync(CancellationToken.None);
            await db.ComparisonImages.Where(i => i.ComparisonId == comparisonId && chunk.Contains(i.ImageId)).ExecuteDeleteAsync(CancellationToken.None);
        }
        var models = await db.ComparisonModels.Where(m => m.ComparisonId == comparisonId).OrderBy(m => m.Position).ToListAsync(CancellationToken.None);
        await ScoreAgainstTruthAsync(db, comparison, models, kept);

        var pairs = new List<ComparisonPair>();
        foreach (var image in kept.Order())
            for (int a = 0; a < models.Count; a++)
                for (int b = a + 1; b < models.Count; b++)
                    pairs.Add(new ComparisonPair { ComparisonId = comparisonId, ImageId = image, First = models[a].ModelId, Second = models[b].ModelId });
        // The judging order: random, and not from the owner's seed (nothing about a pair follows from what the owner chose).
        var order = Enumerable.Range(0, pairs.Count).ToArray();
        RandomNumberGenerator.Shuffle(order.AsSpan());
        for (int i = 0; i < pairs.Count; i++) pairs[i].Order = order[i];
        db.ComparisonPairs.AddRange(pairs);
        await db.SaveChangesAsync(CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        log.LogInformation("Comparison {ComparisonId}: {Models} models on {Images} images, {Pairs} pairs", comparisonId, models.Count, kept.Count, pairs.Count);
        return kept.Count;
    }

    /// <summary>Each model's outputs matched to the ground truth of the kept images that have some (the quality matching:
    /// IoU ≥ 0.5, same label, crowd regions left out; a mask against box truth by its bounding box), summed into its row.</summary>
    private static async Task ScoreAgainstTruthAsync(VisionLabelDb db, Comparison comparison, List<ComparisonModel> models, List<Guid> kept)
    {
        foreach (var chunk in kept.Chunk(100))
        {
            var sizes = await db.Images.AsNoTracking().Where(i => chunk.Contains(i.Id)).ToDictionaryAsync(i => i.Id, i => (i.Width, i.Height), CancellationToken.None);
            var truth = (await db.GroundTruth.AsNoTracking().Where(g => chunk.Contains(g.ImageId)).OrderBy(g => g.Id).ToListAsync(CancellationToken.None))
                .GroupBy(g => g.ImageId).ToDictionary(g => g.Key, g => g.ToList());
            if (truth.Count == 0) continue;
            var outputs = (await db.ComparisonOutputs.AsNoTracking().Where(o => o.ComparisonId == comparison.Id && chunk.Contains(o.ImageId)).OrderBy(o => o.Id)
                .ToListAsync(CancellationToken.None)).GroupBy(o => (o.ModelId, o.ImageId)).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var (image, shapes) in truth)
            {
                bool boxes = shapes.All(g => g.Kind == AnnotationKind.Box);
                var items = shapes.Select(g => new MatchItem(g.Id, g.LabelId, Quality.QualityReports.ShapeOf(g.Kind, g.Geometry), g.Crowd)).ToList();
                var (w, h) = sizes[image];
                foreach (var m in models)
                {
                    var c = ShapeMatcher.Match(items, ComparisonOutputs.Items(outputs.GetValueOrDefault((m.ModelId, image)) ?? [], boxes), h, w).Counts;
                    m.TruthImages++;
                    (m.Tp, m.Fp, m.Fn, m.IouSum) = (m.Tp + c.Tp, m.Fp + c.Fp, m.Fn + c.Fn, m.IouSum + c.IouSum);
                }
            }
        }
    }
}
