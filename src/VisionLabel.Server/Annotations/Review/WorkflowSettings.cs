using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>A project's workflow settings as the API shows them (GET /api/projects/{id} → workflow).</summary>
public sealed record WorkflowDto(int LeaseSeconds, int ReviewPercent, IReadOnlyList<string> FullReviewFor, bool AllowSelfReview,
    int? MaxPerAnnotator, string Priority, int Seed, IReadOnlyList<string> RejectReasons, int ReviewQueueAlert,
    int HoneypotPercent, int OnboardingImages, int Overlap, double Quorum, double AgreementThreshold, int ActiveTimeCutoffSeconds)
{
    public static WorkflowDto From(Project p) => new(p.LeaseSeconds, p.ReviewPercent, p.FullReviewFor, p.AllowSelfReview, p.MaxPerAnnotator,
        ApiEnum.Name(p.QueuePriority), p.QueueSeed, p.RejectReasons, p.ReviewQueueAlert,
        p.HoneypotPercent, p.OnboardingImages, p.Overlap, p.Quorum, p.AgreementThreshold, p.ActiveTimeCutoffSeconds);
}

/// <summary>What PATCH /api/projects/{id} {"workflow": {...}} may change; absent fields stay. maxPerAnnotator: send
/// 0 to remove the cap (null means "unchanged", as for every other field).</summary>
public sealed record WorkflowPatch(int? LeaseSeconds = null, int? ReviewPercent = null, IReadOnlyList<string>? FullReviewFor = null,
    bool? AllowSelfReview = null, int? MaxPerAnnotator = null, string? Priority = null, int? Seed = null,
    IReadOnlyList<string>? RejectReasons = null, int? ReviewQueueAlert = null,
    int? HoneypotPercent = null, int? OnboardingImages = null, int? Overlap = null, double? Quorum = null, double? AgreementThreshold = null,
    int? ActiveTimeCutoffSeconds = null);

public static class WorkflowSettings
{
    public const int DefaultLeaseSeconds = 1800;
    public const int MinLeaseSeconds = 10;
    public const int MaxLeaseSeconds = 7 * 24 * 3600;
    public const int DefaultReviewQueueAlert = 20;
    public const int MaxReasons = 50;
    public const int MaxReasonLength = 100;
    public const int MaxPeople = 1000;
    public const int MaxOverlap = 10;
    public const int DefaultActiveTimeCutoffSeconds = 60;
    public const int MaxOnboardingImages = 1000;
    public static readonly string[] DefaultRejectReasons = ["missed object", "wrong label", "loose box", "other"];

    /// <summary>Checks a patch and applies it; returns the field and the problem of the first bad value (nothing changed then).</summary>
    public static (string Field, string Problem)? Apply(Project project, WorkflowPatch patch)
    {
        if (patch.LeaseSeconds is < MinLeaseSeconds or > MaxLeaseSeconds)
            return ("workflow.leaseSeconds", $"must be between {MinLeaseSeconds} and {MaxLeaseSeconds} seconds, not {patch.LeaseSeconds}");
        if (patch.ReviewPercent is < 0 or > 100) return ("workflow.reviewPercent", $"must be between 0 and 100, not {patch.ReviewPercent}");
        if (patch.MaxPerAnnotator is < 0) return ("workflow.maxPerAnnotator", $"must be 1 or more (0 removes the cap), not {patch.MaxPerAnnotator}");
        if (patch.ReviewQueueAlert is < 0) return ("workflow.reviewQueueAlert", $"must be 0 (never) or more, not {patch.ReviewQueueAlert}");
        if (patch.HoneypotPercent is < 0 or > 100) return ("workflow.honeypotPercent", $"must be between 0 and 100, not {patch.HoneypotPercent}");
        if (patch.OnboardingImages is < 0 or > MaxOnboardingImages)
            return ("workflow.onboardingImages", $"must be between 0 (no onboarding) and {MaxOnboardingImages}, not {patch.OnboardingImages}");
        if (patch.Overlap is < 1 or > MaxOverlap) return ("workflow.overlap", $"must be between 1 (no consensus) and {MaxOverlap} annotators per image, not {patch.Overlap}");
        if (patch.Quorum is { } q && (!double.IsFinite(q) || q <= 0 || q > 1)) return ("workflow.quorum", $"is a share above 0 and at most 1, not {q}");
        if (patch.AgreementThreshold is { } a && (!double.IsFinite(a) || a < 0 || a > 1)) return ("workflow.agreementThreshold", $"is an F1 between 0 and 1, not {a}");
        if (patch.ActiveTimeCutoffSeconds is < 5 or > 3600)
            return ("workflow.activeTimeCutoffSeconds", $"must be between 5 and 3600 seconds, not {patch.ActiveTimeCutoffSeconds}");
        QueuePriority priority = project.QueuePriority;
        if (patch.Priority is { } name && !ApiEnum.TryParse(name, out priority))
            return ("workflow.priority", $"'{name}' is not a priority; use one of {ApiEnum.Names<QueuePriority>()}");
        List<string>? reasons = null;
        if (patch.RejectReasons is { } given)
        {
            reasons = given.Select(r => r?.Trim() ?? "").ToList();
            if (reasons.Count is 0 or > MaxReasons) return ("workflow.rejectReasons", $"give 1 to {MaxReasons} reasons, not {reasons.Count}");
            if (reasons.FirstOrDefault(r => r.Length is 0 or > MaxReasonLength) is { } bad)
                return ("workflow.rejectReasons", $"each reason is 1 to {MaxReasonLength} characters ('{Shorten(bad)}' is not)");
            if (reasons.Count != reasons.Distinct(StringComparer.OrdinalIgnoreCase).Count()) return ("workflow.rejectReasons", "the reasons repeat one another");
        }
        List<string>? full = null;
        if (patch.FullReviewFor is { } people)
        {
            full = people.Select(p => p?.Trim() ?? "").Distinct().ToList();
            if (full.Count > MaxPeople) return ("workflow.fullReviewFor", $"at most {MaxPeople} people");
            if (full.Any(p => p.Length is 0 or > 200)) return ("workflow.fullReviewFor", "each entry is a user name (1 to 200 characters)");
        }

        if (patch.LeaseSeconds is { } lease) project.LeaseSeconds = lease;
        if (patch.ReviewPercent is { } percent) project.ReviewPercent = percent;
        if (full is not null) project.FullReviewFor = full;
        if (patch.AllowSelfReview is { } self) project.AllowSelfReview = self;
        if (patch.MaxPerAnnotator is { } cap) project.MaxPerAnnotator = cap == 0 ? null : cap;
        if (patch.Seed is { } seed && seed != project.QueueSeed) { project.QueueSeed = seed; project.ShuffleStale = true; }
        if (priority != project.QueuePriority) { project.QueuePriority = priority; project.ShuffleStale |= priority == QueuePriority.Random; }
        if (reasons is not null) project.RejectReasons = reasons;
        if (patch.ReviewQueueAlert is { } alert) project.ReviewQueueAlert = alert;
        if (patch.HoneypotPercent is { } honeypots) project.HoneypotPercent = honeypots;
        if (patch.OnboardingImages is { } onboarding) project.OnboardingImages = onboarding;
        if (patch.Overlap is { } overlap) project.Overlap = overlap;
        if (patch.Quorum is { } quorum) project.Quorum = quorum;
        if (patch.AgreementThreshold is { } threshold) project.AgreementThreshold = threshold;
        if (patch.ActiveTimeCutoffSeconds is { } cutoff) project.ActiveTimeCutoffSeconds = cutoff;
        return null;
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
