using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.ModelLoop;

/// <summary>Model comparison and preference (docs/models-in-the-loop.md): an owner starts one, reviewers judge pairs of outputs blinded, everyone reads the leaderboard.</summary>
public static class ComparisonsApi
{
    public const int MaxModels = 8;
    public const int MaxImages = 500;
    /// <summary>A disputed sample runs the models on this many times the sample, at random, and keeps the most disputed.</summary>
    public const int DisputedPool = 3;
    /// <summary>Below this a model's output is mostly noise, and the outputs kept per image grow to the cap.</summary>
    public const float MinConfidence = 0.05f;

    public static IEndpointRouteBuilder MapComparisonsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/projects/{projectId:guid}/comparisons").WithTags("Models in the loop");
        group.MapPost("/", Start).RequireProjectRole(ProjectRole.Owner).WithBodyLimit(Limits.SmallJsonBody).WithDescription(
            "Starts a comparison of 2 to 8 models: {modelIds, name?, sampleSize? (default 50, at most 500), sample?: random|disputed, imageIds? (the pool to draw from), " +
            "confidence? (0.25), seed?}. 202 with the comparison; its job runs each model on the sample (follow it at /api/jobs/{jobId} or over /hubs/live).");
        group.MapGet("/", List).RequireProjectRole(ProjectRole.Viewer).WithDescription("The project's comparisons, newest first.");
        group.MapGet("/{comparisonId:guid}", Get).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "The comparison and its leaderboard: per model wins, losses, ties, both bad, win rate, Bradley–Terry score with a 95% interval, the reasons given against it, " +
            "and its precision, recall and F1 against the ground truth where the sample has some; the latest judgements.");
        group.MapGet("/{comparisonId:guid}/next", Next).RequireProjectRole(ProjectRole.Reviewer).WithDescription(
            "The next pair for the caller to judge, blinded (outputs A and B, not which model made which); 204 when they have judged every pair.");
        group.MapPost("/{comparisonId:guid}/pairs/{pairId:guid}/judgement", Judge).RequireProjectRole(ProjectRole.Reviewer).WithBodyLimit(Limits.SmallJsonBody)
            .WithDescription("Judges a pair: {choice: A|B|tie|bothBad, reasons?: [missedObjects, falsePositives, looseBoxes, wrongLabels]}. Each judge judges a pair once (409 after).");
        // Owners only: the export says which model made which output, which a judge must not know while judging.
        group.MapGet("/{comparisonId:guid}/export", Export).RequireProjectRole(ProjectRole.Owner).WithDescription(
            "The judgements as JSONL, one line each: {imageId, fileName, modelA, modelB, modelAName, modelBName, outputsA, outputsB, choice, reasons, judge, guidelineVersion, at}.");
        return app;
    }

    private static async Task<Results<Accepted<ComparisonSummary>, ValidationProblem, ProblemHttpResult>> Start(Guid projectId, StartComparisonRequest request, HttpContext context,
        VisionLabelDb db, JobDispatcher dispatcher, ComparisonReports reports, IOptions<JobOptions> jobs, TimeProvider time, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var ids = request.ModelIds ?? [];
        if (ids.Count < 2 || ids.Distinct().Count() != ids.Count)
            return Problems.Invalid("modelIds", $"name 2 to {MaxModels} different models to compare (GET /api/models lists them)");
        var sampling = ComparisonSampling.Random;
        if (request.Sample is not null && !ApiEnum.TryParse(request.Sample, out sampling))
            return Problems.Invalid("sample", $"'{request.Sample}' is not a sample; use random or disputed");
        int size = request.SampleSize ?? Math.Min(50, request.ImageIds?.Count ?? 50);
        if (size is < 1 or > MaxImages) return Problems.Invalid("sampleSize", $"must be 1 to {MaxImages} images, not {size}");
        float confidence = request.Confidence ?? 0.25f;
        if (!float.IsFinite(confidence) || confidence < MinConfidence || confidence >= 1) return Problems.Invalid("confidence", $"must be at least {MinConfidence} and below 1");
        string name = request.Name?.Trim() ?? "";
        if (name.Length > Limits.Name) return Problems.Invalid("name", $"is at most {Limits.Name} characters");

        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToListAsync(ct);
        var members = new List<ComparisonModel>();
        for (int i = 0; i < ids.Count; i++)
        {
            var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == ids[i], ct);
            if (model is null) return Problems.Invalid($"modelIds[{i}]", $"no model has id {ids[i]}; upload one at /api/models");
            var saved = await db.ModelMappings.AsNoTracking().FirstOrDefaultAsync(m => m.ProjectId == projectId && m.ModelId == model.Id, ct);
            if (!ModelMappings.Describe(projectId, model, labels, saved).Classes.Any(c => c.LabelId is not null))
                return Problems.Invalid($"modelIds[{i}]", $"none of model {model.Name}'s classes maps to a label of this project; map them at /api/projects/{projectId}/models/{model.Id}/mapping");
            members.Add(new ComparisonModel { ModelId = model.Id, Name = model.Name, Position = i });
        }

        // The pool: the images asked for (each must be this project's), else all of them.
        List<Guid> pool;
        if (request.ImageIds is { } asked)
        {
            var distinct = asked.Distinct().ToList();
            var found = new HashSet<Guid>();
            foreach (var chunk in distinct.Chunk(500))
                found.UnionWith(await db.Images.Where(i => i.ProjectId == projectId && chunk.Contains(i.Id)).Select(i => i.Id).ToListAsync(ct));
            if (distinct.FirstOrDefault(id => !found.Contains(id)) is var missing && missing != Guid.Empty)
                return Problems.Invalid("imageIds", $"image {missing} is not an image of this project");
            pool = distinct.Order().ToList();
        }
        else pool = await db.Images.Where(i => i.ProjectId == projectId).OrderBy(i => i.Id).Select(i => i.Id).ToListAsync(ct);
        if (pool.Count == 0) return Problems.Invalid("imageIds", "the project has no images to compare the models on; upload some first");
        int seed = request.Seed ?? Random.Shared.Next();
        var random = new Random(seed);
        var drawn = pool.OrderBy(_ => random.Next()).Take(sampling == ComparisonSampling.Disputed ? size * DisputedPool : size).ToList();

        var now = time.GetUtcNow().UtcDateTime;
        var comparison = new Comparison
        {
            ProjectId = projectId, Name = name.Length > 0 ? name : DefaultName(members), Sampling = sampling, SampleSize = Math.Min(size, drawn.Count),
            Confidence = confidence, Seed = seed, CreatedBy = context.Caller().UserName, CreatedAt = now,
        };
        var job = new Job
        {
            Kind = ComparisonJob.JobKind, ProjectId = projectId, CreatedAt = now, MaxAttempts = jobs.Value.MaxAttempts, Total = drawn.Count,
            Payload = JsonSerializer.Serialize(new ComparisonPayload(comparison.Id), JsonSerializerOptions.Web),
        };
        comparison.JobId = job.Id;
        db.Jobs.Add(job);
        db.Comparisons.Add(comparison);
        foreach (var m in members) m.ComparisonId = comparison.Id;
        db.ComparisonModels.AddRange(members);
        db.ComparisonImages.AddRange(drawn.Select(id => new ComparisonImage { ComparisonId = comparison.Id, ImageId = id }));
        db.JobItems.AddRange(drawn.Select(id => new JobItem { JobId = job.Id, ImageId = id }));
        await db.SaveChangesAsync(CancellationToken.None);
        await dispatcher.DispatchAsync(job.Id, CancellationToken.None);
        return TypedResults.Accepted($"/api/projects/{projectId}/comparisons/{comparison.Id}", await reports.SummaryAsync(comparison, CancellationToken.None));
    }

    /// <summary>"A vs B vs C", shortened to fit.</summary>
    private static string DefaultName(List<ComparisonModel> members)
    {
        string name = string.Join(" vs ", members.Select(m => m.Name));
        return name.Length <= Limits.Name ? name : name[..(Limits.Name - 1)] + "…";
    }

    private static async Task<Results<Ok<List<ComparisonSummary>>, ProblemHttpResult>> List(Guid projectId, VisionLabelDb db, ComparisonReports reports, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var list = new List<ComparisonSummary>();
        foreach (var c in await db.Comparisons.AsNoTracking().Where(c => c.ProjectId == projectId).OrderByDescending(c => c.CreatedAt).Take(200).ToListAsync(ct))
            list.Add(await reports.SummaryAsync(c, ct));
        return TypedResults.Ok(list);
    }

    private static async Task<Comparison?> FindAsync(VisionLabelDb db, Guid projectId, Guid comparisonId, CancellationToken ct) =>
        await db.Comparisons.AsNoTracking().FirstOrDefaultAsync(c => c.Id == comparisonId && c.ProjectId == projectId, ct); // another project's id is not found

    private static async Task<Results<Ok<ComparisonReport>, ProblemHttpResult>> Get(Guid projectId, Guid comparisonId, VisionLabelDb db, ComparisonReports reports, CancellationToken ct) =>
        await FindAsync(db, projectId, comparisonId, ct) is { } c ? TypedResults.Ok(await reports.ReportAsync(c, ct)) : Problems.NotFound("Comparison", comparisonId);

    private static async Task<Results<Ok<PairToJudge>, NoContent, ProblemHttpResult>> Next(Guid projectId, Guid comparisonId, HttpContext context, VisionLabelDb db,
        ComparisonReports reports, CancellationToken ct)
    {
        if (await FindAsync(db, projectId, comparisonId, ct) is not { } c) return Problems.NotFound("Comparison", comparisonId);
        if (await NotReadyAsync(db, c, ct) is { } problem) return problem;
        return await reports.NextAsync(c, context.Caller().UserName, ct) is { } pair ? TypedResults.Ok(pair) : TypedResults.NoContent();
    }

    private static async Task<ProblemHttpResult?> NotReadyAsync(VisionLabelDb db, Comparison c, CancellationToken ct)
    {
        var status = await db.Jobs.Where(j => j.Id == c.JobId).Select(j => j.Status).FirstAsync(ct);
        return status == JobStatus.Completed ? null : Problems.Conflict("Comparison not ready",
            status is JobStatus.Queued or JobStatus.Running
                ? "The models are still running on the sample; judging opens when the comparison's job completes."
                : $"The comparison's job was {ApiEnum.Name(status)}; start a new comparison.");
    }

    private static async Task<Results<Created<JudgedDto>, ValidationProblem, ProblemHttpResult>> Judge(Guid projectId, Guid comparisonId, Guid pairId, JudgeRequest request,
        HttpContext context, VisionLabelDb db, Guidelines.GuidelineVersions guidelines, TimeProvider time, CancellationToken ct)
    {
        if (!JudgementNames.TryChoice(request.Choice, out var choice)) return Problems.Invalid("choice", "choose A, B, tie or bothBad");
        var reasons = JudgementReasons.None;
        var given = request.Reasons ?? [];
        for (int i = 0; i < given.Count; i++)
        {
            if (!ApiEnum.TryParse(given[i], out JudgementReasons r) || r == JudgementReasons.None)
                return Problems.Invalid($"reasons[{i}]", $"'{given[i]}' is not a reason; use missedObjects, falsePositives, looseBoxes or wrongLabels");
            reasons |= r;
        }
        if (reasons != JudgementReasons.None && choice == Preference.Tie)
            return Problems.Invalid("reasons", "a tie takes no reasons (they say what was wrong with the output that lost, or with both when both are bad)");
        if (await FindAsync(db, projectId, comparisonId, ct) is not { } c) return Problems.NotFound("Comparison", comparisonId);
        if (await NotReadyAsync(db, c, ct) is { } problem) return problem;
        var pair = await db.ComparisonPairs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == pairId && p.ComparisonId == c.Id, ct);
        if (pair is null) return Problems.NotFound("Pair", pairId);
        string judge = context.Caller().UserName;
        var (a, b) = ComparisonReports.Shown(c, pair, judge); // the order this judge was shown
        var judgement = new Judgement
        {
            ComparisonId = c.Id, PairId = pair.Id, ImageId = pair.ImageId, ModelA = a, ModelB = b, Choice = choice, Reasons = reasons,
            Judge = judge, GuidelineVersion = await guidelines.CurrentAsync(db, projectId), At = time.GetUtcNow().UtcDateTime,
        };
        var already = Problems.Conflict("Already judged", "You have judged this pair; GET …/next gives the next one.");
        if (await db.Judgements.AnyAsync(j => j.PairId == pair.Id && j.Judge == judge, ct)) return already;
        db.Judgements.Add(judgement);
        try { await db.SaveChangesAsync(CancellationToken.None); }
        catch (DbUpdateException)
        {
            // A second judgement at the same moment (the unique index), or the image deleted meanwhile (its pair went with it).
            db.ChangeTracker.Clear();
            if (await db.Judgements.AnyAsync(j => j.PairId == pair.Id && j.Judge == judge, CancellationToken.None)) return already;
            if (!await db.ComparisonPairs.AnyAsync(p => p.Id == pair.Id, CancellationToken.None)) return Problems.NotFound("Pair", pairId);
            throw;
        }
        // The judge is told nothing about which model was which.
        return TypedResults.Created($"/api/projects/{projectId}/comparisons/{c.Id}",
            new JudgedDto(judgement.Id, pair.Id, JudgementNames.Choice(choice), JudgementNames.Reasons(reasons), judgement.GuidelineVersion, judgement.At));
    }

    private static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Export(Guid projectId, Guid comparisonId, VisionLabelDb db, ComparisonReports reports, CancellationToken ct)
    {
        if (await FindAsync(db, projectId, comparisonId, ct) is not { } c) return Problems.NotFound("Comparison", comparisonId);
        return TypedResults.Stream(body => reports.WriteJsonlAsync(c, body, ct), "application/x-ndjson", $"comparison-{c.Id}.jsonl");
    }
}
