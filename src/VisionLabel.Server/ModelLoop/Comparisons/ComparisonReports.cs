using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Quality;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.ModelLoop;

/// <summary>What a comparison shows (docs/models-in-the-loop.md): its state, the leaderboard from the judgements and
/// the ground truth, the pairs to judge (blinded) and the judgements as JSONL.</summary>
public sealed class ComparisonReports(VisionLabelDb db)
{
    public async Task<ComparisonSummary> SummaryAsync(Comparison c, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == c.JobId, ct);
        var models = await ModelsAsync(c.Id, ct);
        int images = await db.ComparisonImages.CountAsync(i => i.ComparisonId == c.Id, ct);
        int pairs = await db.ComparisonPairs.CountAsync(p => p.ComparisonId == c.Id, ct);
        int judgements = await db.Judgements.CountAsync(j => j.ComparisonId == c.Id, ct);
        string status = ComparisonSummary.StatusOf(job.Status);
        return new ComparisonSummary(c.Id, c.ProjectId, c.Name, status, Common.ApiEnum.Name(c.Sampling), c.SampleSize, models, c.JobId, job.Done + job.Failed, job.Total,
            job.Failed, status == "failed" ? job.LastError ?? $"the job was {Common.ApiEnum.Name(job.Status)}" : null, images, pairs, judgements, c.CreatedBy, c.CreatedAt);
    }

    public async Task<List<ComparisonModelDto>> ModelsAsync(Guid comparisonId, CancellationToken ct) =>
        await db.ComparisonModels.AsNoTracking().Where(m => m.ComparisonId == comparisonId).OrderBy(m => m.Position)
            .Select(m => new ComparisonModelDto(m.ModelId, m.Name)).ToListAsync(ct);

    public async Task<ComparisonReport> ReportAsync(Comparison c, CancellationToken ct)
    {
        var summary = await SummaryAsync(c, ct);
        var judgements = await db.Judgements.AsNoTracking().Where(j => j.ComparisonId == c.Id).OrderBy(j => j.Id).ToListAsync(ct);
        var ids = summary.Models.Select(m => m.ModelId.ToString()).ToList();
        var standings = BradleyTerry.Rank(ids, judgements.Select(j => new Judged(j.ModelA.ToString(), j.ModelB.ToString(), j.Choice)).ToList());
        var truth = await db.ComparisonModels.AsNoTracking().Where(m => m.ComparisonId == c.Id && m.TruthImages > 0).ToDictionaryAsync(m => m.ModelId, m =>
        {
            var q = new QualityCounts(m.Tp, m.Fp, m.Fn, m.IouSum);
            return new GroundTruthScore(m.TruthImages, m.Tp, m.Fp, m.Fn, Math.Round(q.Precision, 6), Math.Round(q.Recall, 6), Math.Round(q.F1, 6), Math.Round(q.MeanIou, 6));
        }, ct);
        var rows = standings.Select((s, i) =>
        {
            var model = Guid.Parse(s.Model);
            var mine = judgements.Where(j => j.ModelA == model || j.ModelB == model).ToList();
            bool Won(Judgement j) => j.Choice == Preference.A && j.ModelA == model || j.Choice == Preference.B && j.ModelB == model;
            bool Lost(Judgement j) => j.Choice == Preference.A && j.ModelB == model || j.Choice == Preference.B && j.ModelA == model;
            // Reasons count against the output that lost, or both when both were bad or tied.
            var against = mine.Where(j => !Won(j)).SelectMany(j => JudgementNames.Reasons(j.Reasons)).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
            return new LeaderboardRow(i + 1, model, summary.Models.First(m => m.ModelId == model).Name, s.Games, mine.Count(Won), mine.Count(Lost),
                mine.Count(j => j.Choice == Preference.Tie), mine.Count(j => j.Choice == Preference.BothBad), s.WinRate, s.Score, s.Low, s.High,
                against, truth.GetValueOrDefault(model));
        }).ToList();
        var recent = await JudgementsAsync(db.Judgements.AsNoTracking().Where(j => j.ComparisonId == c.Id).OrderByDescending(j => j.Id).Take(20), ct);
        recent = recent.OrderByDescending(j => j.Id).ToList();
        return new ComparisonReport(summary, rows, recent);
    }

    private async Task<List<JudgementDto>> JudgementsAsync(IQueryable<Judgement> query, CancellationToken ct) =>
        (await query.Join(db.Images.IgnoreQueryFilters(), j => j.ImageId, i => i.Id, (j, i) => new { j, i.FileName }).ToListAsync(ct))
        .Select(x => new JudgementDto(x.j.Id, x.j.PairId, x.j.ImageId, x.FileName, x.j.ModelA, x.j.ModelB, JudgementNames.Choice(x.j.Choice),
            JudgementNames.Reasons(x.j.Reasons), x.j.Judge, x.j.GuidelineVersion, x.j.At)).ToList();

    /// <summary>The next pair for this judge: of those they have not judged, the least judged by anyone, then the comparison's random order. Null when none is left.</summary>
    public async Task<PairToJudge?> NextAsync(Comparison c, string judge, CancellationToken ct)
    {
        var open = db.ComparisonPairs.AsNoTracking().Where(p => p.ComparisonId == c.Id && !db.Judgements.Any(j => j.PairId == p.Id && j.Judge == judge));
        int remaining = await open.CountAsync(ct);
        var pair = await open.OrderBy(p => db.Judgements.Count(j => j.PairId == p.Id)).ThenBy(p => p.Order).FirstOrDefaultAsync(ct);
        if (pair is null) return null;
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == pair.ImageId, ct);
        var outputs = await OutputsAsync(c.Id, pair.ImageId, ct);
        int judged = await db.Judgements.CountAsync(j => j.ComparisonId == c.Id && j.Judge == judge, ct);
        var (a, b) = Shown(c, pair, judge);
        return new PairToJudge(pair.Id, image.Id, image.FileName, image.Width, image.Height,
            outputs.GetValueOrDefault(a) ?? [], outputs.GetValueOrDefault(b) ?? [], judged, remaining);
    }

    /// <summary>Which model this judge sees as A and as B on this pair: a keyed hash of the comparison's secret, the pair and
    /// the judge, so the order is the same each time they open it, may differ between judges, and no one can work it out.</summary>
    public static (Guid A, Guid B) Shown(Comparison c, ComparisonPair pair, string judge)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(c.Secret, Encoding.UTF8.GetBytes($"{pair.Id:N}\n{judge}"), hash);
        return (hash[0] & 1) == 0 ? (pair.First, pair.Second) : (pair.Second, pair.First);
    }

    /// <summary>An image's outputs per model, with label names (score order, highest first).</summary>
    private async Task<Dictionary<Guid, List<ComparisonOutputDto>>> OutputsAsync(Guid comparisonId, Guid imageId, CancellationToken ct) =>
        (await db.ComparisonOutputs.AsNoTracking().Where(o => o.ComparisonId == comparisonId && o.ImageId == imageId)
            .ToListAsync(ct))
        .OrderByDescending(o => o.Score).ThenBy(o => o.Id)
        .GroupBy(o => o.ModelId).ToDictionary(g => g.Key, g => g.Select(Dto).ToList());

    private static ComparisonOutputDto Dto(ComparisonOutput o) =>
        new(o.LabelId, o.Label, Common.ApiEnum.Name(o.Kind), JsonDocument.Parse(o.Geometry).RootElement.Clone(), o.Score);

    /// <summary>
    /// The judgements as JSONL, oldest first, one line each: {imageId, fileName, modelA, modelB (ids), modelAName,
    /// modelBName, outputsA, outputsB, choice, reasons, judge, guidelineVersion, at}; read a page at a time.
    /// </summary>
    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    public async Task WriteJsonlAsync(Comparison c, Stream body, CancellationToken ct)
    {
        var names = (await ModelsAsync(c.Id, ct)).ToDictionary(m => m.ModelId, m => m.Name);
        var outputCache = new Dictionary<Guid, Dictionary<Guid, List<ComparisonOutputDto>>>();
        Guid after = Guid.Empty;
        var options = new JsonSerializerOptions(JsonSerializerOptions.Web);
        while (true)
        {
            var page = await JudgementsAsync(db.Judgements.AsNoTracking().Where(j => j.ComparisonId == c.Id && j.Id.CompareTo(after) > 0).OrderBy(j => j.Id).Take(500), ct);
            if (page.Count == 0) break;
            foreach (var j in page.OrderBy(j => j.Id))
            {
                if (!outputCache.TryGetValue(j.ImageId, out var outputs))
                {
                    if (outputCache.Count > 256) outputCache.Clear(); // bounded: judgements of one image tend to come together
                    outputs = outputCache[j.ImageId] = await OutputsAsync(c.Id, j.ImageId, ct);
                }
                var line = new
                {
                    j.ImageId, j.FileName, ModelA = j.ModelA, ModelB = j.ModelB, ModelAName = names.GetValueOrDefault(j.ModelA), ModelBName = names.GetValueOrDefault(j.ModelB),
                    OutputsA = outputs.GetValueOrDefault(j.ModelA) ?? [], OutputsB = outputs.GetValueOrDefault(j.ModelB) ?? [],
                    j.Choice, j.Reasons, j.Judge, j.GuidelineVersion, j.At,
                };
                await JsonSerializer.SerializeAsync(body, line, options, ct);
                await body.WriteAsync(NewLine, ct);
            }
            await body.FlushAsync(ct);
            after = page.Max(j => j.Id);
        }
    }
}
