using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.ModelLoop;

/// <summary>
/// A comparison to start: two to eight models; the sample: sampleSize images (default 50) of the pool (imageIds, else
/// every image) drawn at random (from the seed), or the most disputed ones (the models run on three times as many at
/// random and the images they disagree on most are kept); detections at confidence (default 0.25, at least 0.05).
/// </summary>
public sealed record StartComparisonRequest(
    string? Name = null, [property: MaxLength(ComparisonsApi.MaxModels)] IReadOnlyList<Guid>? ModelIds = null, int? SampleSize = null, string? Sample = null,
    [property: MaxLength(ComparisonsApi.MaxImages)] IReadOnlyList<Guid>? ImageIds = null, float? Confidence = null, int? Seed = null);

public sealed record ComparisonModelDto(Guid ModelId, string Name);

/// <summary>A comparison's state: running (its job is running the models; done of total images), ready (to judge), failed
/// (the job's error). failed: images left out because a model could not run on them.</summary>
public sealed record ComparisonSummary(
    Guid Id, Guid ProjectId, string Name, string Status, string Sample, int SampleSize, IReadOnlyList<ComparisonModelDto> Models, Guid JobId, int Done, int Total,
    int Failed, string? Error, int Images, int Pairs, int Judgements, string CreatedBy, DateTime CreatedAt)
{
    public static string StatusOf(JobStatus job) => job switch
    {
        JobStatus.Queued or JobStatus.Running => "running",
        JobStatus.Completed => "ready",
        _ => "failed",
    };
}

/// <summary>A model's matches against the ground truth on the comparison's images that have some (the quality issue's matching: IoU ≥ 0.5, same label).</summary>
public sealed record GroundTruthScore(int Images, long Tp, long Fp, long Fn, double Precision, double Recall, double F1, double MeanIou);

/// <summary>
/// A model's row: its judgements (wins, losses, ties, both bad: counts), win rate ((wins + ½ ties + ½ both bad) ÷ games), its
/// Bradley–Terry score with a 95% interval, the reasons given against it (when it lost, or both were bad), and its
/// figures against the ground truth (null without any).
/// </summary>
public sealed record LeaderboardRow(
    int Rank, Guid ModelId, string Name, int Games, int Wins, int Losses, int Ties, int BothBad, double? WinRate, double Score, double Low, double High,
    IReadOnlyDictionary<string, int> ReasonsAgainst, GroundTruthScore? GroundTruth);

/// <summary>What a judge is told of their own judgement: nothing about which model was which.</summary>
public sealed record JudgedDto(Guid Id, Guid PairId, string Choice, IReadOnlyList<string> Reasons, string? GuidelineVersion, DateTime At);

public sealed record JudgementDto(Guid Id, Guid PairId, Guid ImageId, string FileName, Guid ModelA, Guid ModelB, string Choice, IReadOnlyList<string> Reasons, string Judge,
    string? GuidelineVersion, DateTime At);

public sealed record ComparisonReport(ComparisonSummary Comparison, IReadOnlyList<LeaderboardRow> Leaderboard, IReadOnlyList<JudgementDto> Recent);

/// <summary>One shape a model output, as the judging page draws it and the export writes it.</summary>
public sealed record ComparisonOutputDto(Guid LabelId, string Label, string Kind, JsonElement Geometry, double Score);

/// <summary>A pair to judge, blinded: the two outputs as A and B, never which model made which.</summary>
public sealed record PairToJudge(Guid PairId, Guid ImageId, string FileName, int Width, int Height, IReadOnlyList<ComparisonOutputDto> A, IReadOnlyList<ComparisonOutputDto> B,
    int Judged, int Remaining);

/// <summary>choice: A, B, tie or bothBad; reasons: missedObjects, falsePositives, looseBoxes, wrongLabels.</summary>
public sealed record JudgeRequest(string? Choice, [property: MaxLength(8)] IReadOnlyList<string>? Reasons = null);

internal static class JudgementNames
{
    public static string Choice(Preference p) => p switch { Preference.A => "A", Preference.B => "B", Preference.Tie => "tie", _ => "bothBad" };

    public static bool TryChoice(string? s, out Preference p)
    {
        p = s switch { "A" or "a" => Preference.A, "B" or "b" => Preference.B, _ => Preference.Tie };
        if (s is "A" or "a" or "B" or "b") return true;
        return ApiEnum.TryParse(s ?? "", out p) && p is Preference.Tie or Preference.BothBad;
    }

    public static readonly JudgementReasons[] All = [JudgementReasons.MissedObjects, JudgementReasons.FalsePositives, JudgementReasons.LooseBoxes, JudgementReasons.WrongLabels];

    /// <summary>Reason tags as the API writes them (camelCase: missedObjects, …).</summary>
    public static IReadOnlyList<string> Reasons(JudgementReasons r) => All.Where(x => r.HasFlag(x)).Select(Reason).ToList();

    public static string Reason(JudgementReasons r) => JsonNamingPolicy.CamelCase.ConvertName(r.ToString());
}
