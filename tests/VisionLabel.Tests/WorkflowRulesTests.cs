using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Tests;

/// <summary>The workflow's rules as a pure decision, case by case: who may move an image from which stage, and what it becomes.</summary>
[Trait("Tier", Tiers.Unit)]
public class WorkflowRulesTests
{
    private static readonly DateTime Now = new(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);
    private static readonly string[] Reasons = ["missed object", "wrong label"];

    private static WorkState State(ImageStatus status, string? holder = null, string? assignee = null, string? submittedBy = null, int secondsLeft = 60) =>
        new(status, assignee, null, holder, holder is null ? null : WorkStage.Annotate, holder is null ? null : Now.AddSeconds(secondsLeft), submittedBy, null, null, null, 0);

    private static (WorkDecision? Decision, WorkRefusal? Refusal) Decide(WorkState s, WorkAction action, string who, ProjectRole role,
        bool needsReview = true, bool selfReview = false, string? reason = null) =>
        WorkflowRules.Decide(s, action, new Actor(who, role), Now, needsReview, selfReview, reason, Reasons);

    public static TheoryData<ImageStatus, WorkAction, ProjectRole, string, int?, ImageStatus?> Matrix => new()
    {
        // status, action, role of "ann" (who submitted, where there is a submitter), expected refusal (status code) or new status
        { ImageStatus.New, WorkAction.Submit, ProjectRole.Annotator, "ann", null, ImageStatus.Submitted },
        { ImageStatus.Prelabeled, WorkAction.Submit, ProjectRole.Annotator, "ann", null, ImageStatus.Submitted },
        { ImageStatus.InProgress, WorkAction.Submit, ProjectRole.Annotator, "ann", null, ImageStatus.Submitted },
        { ImageStatus.Submitted, WorkAction.Submit, ProjectRole.Annotator, "ann", 409, null },
        { ImageStatus.Approved, WorkAction.Submit, ProjectRole.Owner, "boss", 409, null },
        { ImageStatus.Rejected, WorkAction.Submit, ProjectRole.Annotator, "ann", null, ImageStatus.Submitted },
        { ImageStatus.Rejected, WorkAction.Submit, ProjectRole.Annotator, "other", 403, null }, // rework belongs to its submitter
        { ImageStatus.Submitted, WorkAction.Approve, ProjectRole.Annotator, "other", 403, null },
        { ImageStatus.Submitted, WorkAction.Approve, ProjectRole.Reviewer, "rev", null, ImageStatus.Approved },
        { ImageStatus.Submitted, WorkAction.Approve, ProjectRole.Reviewer, "ann", 403, null }, // own work
        { ImageStatus.Submitted, WorkAction.Approve, ProjectRole.Owner, "ann", 403, null },    // owners too
        { ImageStatus.InProgress, WorkAction.Approve, ProjectRole.Reviewer, "rev", 409, null },
        { ImageStatus.Approved, WorkAction.Approve, ProjectRole.Reviewer, "rev", 409, null },
        { ImageStatus.Submitted, WorkAction.Reject, ProjectRole.Reviewer, "rev", null, ImageStatus.Rejected },
        { ImageStatus.Rejected, WorkAction.Reject, ProjectRole.Reviewer, "rev", 409, null },
        { ImageStatus.Approved, WorkAction.Reopen, ProjectRole.Reviewer, "rev", 403, null },
        { ImageStatus.Approved, WorkAction.Reopen, ProjectRole.Owner, "boss", null, ImageStatus.InProgress },
        { ImageStatus.Submitted, WorkAction.Reopen, ProjectRole.Owner, "boss", null, ImageStatus.InProgress },
        { ImageStatus.InProgress, WorkAction.Reopen, ProjectRole.Owner, "boss", 409, null },
    };

    [Theory, MemberData(nameof(Matrix))]
    public void Who_moves_what(ImageStatus from, WorkAction action, ProjectRole role, string who, int? refused, ImageStatus? to)
    {
        var submitter = from is ImageStatus.Submitted or ImageStatus.Approved or ImageStatus.Rejected ? "ann" : null;
        var (decision, refusal) = Decide(State(from, submittedBy: submitter), action, who, role, reason: "wrong label");
        Assert.Equal(refused, refusal?.StatusCode);
        Assert.Equal(to, decision?.State.Status);
    }

    [Fact]
    public void Submitting_records_the_submitter_releases_the_lease_and_outside_the_sample_approves_at_once()
    {
        var (decision, _) = Decide(State(ImageStatus.InProgress, holder: "ann"), WorkAction.Submit, "ann", ProjectRole.Annotator);
        Assert.Equal((ImageStatus.Submitted, "ann", Now, (string?)null, WorkEventKind.Submitted), (decision!.State.Status, decision.State.SubmittedBy, decision.State.SubmittedAt, decision.State.LeaseHolder, decision.Event));
        var (auto, _) = Decide(State(ImageStatus.InProgress), WorkAction.Submit, "ann", ProjectRole.Annotator, needsReview: false);
        Assert.Equal((ImageStatus.Approved, WorkEventKind.AutoApproved, (string?)null), (auto!.State.Status, auto.Event, auto.State.ReviewedBy));
    }

    [Fact]
    public void A_lease_decides_who_submits()
    {
        // Someone else's live lease: refused (409), even for the assignee; an expired one is nobody's.
        Assert.Equal(409, Decide(State(ImageStatus.InProgress, holder: "bob", assignee: "ann"), WorkAction.Submit, "ann", ProjectRole.Annotator).Refusal?.StatusCode);
        Assert.Null(Decide(State(ImageStatus.InProgress, holder: "bob", secondsLeft: -1), WorkAction.Submit, "ann", ProjectRole.Annotator).Refusal);
        // The holder submits an image assigned to someone else (an owner leased it to them? no: a lease outranks the assignment).
        Assert.Null(Decide(State(ImageStatus.InProgress, holder: "ann", assignee: "bob"), WorkAction.Submit, "ann", ProjectRole.Annotator).Refusal);
        Assert.Equal(403, Decide(State(ImageStatus.InProgress, assignee: "bob"), WorkAction.Submit, "ann", ProjectRole.Annotator).Refusal?.StatusCode);
        Assert.Null(Decide(State(ImageStatus.InProgress, holder: "bob"), WorkAction.Submit, "boss", ProjectRole.Owner).Refusal); // owners override
        // Rework an owner gave to someone else is theirs, not the original annotator's.
        var reassigned = State(ImageStatus.Rejected, assignee: "zoe", submittedBy: "ann");
        Assert.Equal(403, Decide(reassigned, WorkAction.Submit, "ann", ProjectRole.Annotator).Refusal?.StatusCode);
        Assert.Null(Decide(reassigned, WorkAction.Submit, "zoe", ProjectRole.Annotator).Refusal);
        // Another reviewer's review lease.
        var reviewing = State(ImageStatus.Submitted, holder: "rev2", submittedBy: "ann") with { LeaseStage = WorkStage.Review };
        Assert.Equal(409, Decide(reviewing, WorkAction.Approve, "rev", ProjectRole.Reviewer).Refusal?.StatusCode);
    }

    [Fact]
    public void A_rejection_counts_a_round_names_a_listed_reason_as_the_project_spells_it()
    {
        var s = State(ImageStatus.Submitted, submittedBy: "ann");
        Assert.Equal((400, "reason"), (Decide(s, WorkAction.Reject, "rev", ProjectRole.Reviewer).Refusal!.StatusCode, Decide(s, WorkAction.Reject, "rev", ProjectRole.Reviewer).Refusal!.Field));
        Assert.Equal(400, Decide(s, WorkAction.Reject, "rev", ProjectRole.Reviewer, reason: "blurry").Refusal?.StatusCode);
        var (decision, _) = Decide(s, WorkAction.Reject, "rev", ProjectRole.Reviewer, reason: " Missed Object ");
        Assert.Equal((1, "missed object", "ann", "rev"), (decision!.State.ReworkRounds, decision.Reason, decision.Subject, decision.State.ReviewedBy));
        Assert.Null(Decide(s, WorkAction.Approve, "ann", ProjectRole.Reviewer, selfReview: true).Refusal);
    }

    [Fact]
    public void Reopening_returns_the_image_to_whoever_submitted_it()
    {
        var (decision, _) = Decide(State(ImageStatus.Approved, submittedBy: "ann"), WorkAction.Reopen, "boss", ProjectRole.Owner);
        Assert.Equal((ImageStatus.InProgress, "ann"), (decision!.State.Status, decision.State.AnnotateAssignee));
        var (kept, _) = Decide(State(ImageStatus.Approved, submittedBy: "ann", assignee: "zoe"), WorkAction.Reopen, "boss", ProjectRole.Owner);
        Assert.Equal("zoe", kept!.State.AnnotateAssignee);
    }

    [Fact]
    public void Stage_names()
    {
        Assert.Equal("annotate", WorkflowRules.StageName(State(ImageStatus.New), Now));
        Assert.Equal("annotate", WorkflowRules.StageName(State(ImageStatus.InProgress, holder: "ann"), Now));
        Assert.Equal("submitted", WorkflowRules.StageName(State(ImageStatus.Submitted), Now));
        Assert.Equal("in-review", WorkflowRules.StageName(State(ImageStatus.Submitted, holder: "rev"), Now));
        Assert.Equal("submitted", WorkflowRules.StageName(State(ImageStatus.Submitted, holder: "rev", secondsLeft: -5), Now));
        Assert.Equal("approved", WorkflowRules.StageName(State(ImageStatus.Approved), Now));
        Assert.Equal("rejected", WorkflowRules.StageName(State(ImageStatus.Rejected), Now));
        Assert.Equal("rework", WorkflowRules.StageName(State(ImageStatus.Rejected, holder: "ann"), Now));
    }

    [Fact]
    public void Edits_are_refused_by_stage_and_role()
    {
        Assert.NotNull(ImageStatusRules.EditProblem(ImageStatus.Submitted, ProjectRole.Annotator));
        Assert.Null(ImageStatusRules.EditProblem(ImageStatus.Submitted, ProjectRole.Reviewer));
        Assert.NotNull(ImageStatusRules.EditProblem(ImageStatus.Approved, ProjectRole.Owner));
        foreach (var open in new[] { ImageStatus.New, ImageStatus.Prelabeled, ImageStatus.InProgress, ImageStatus.Rejected })
            Assert.Null(ImageStatusRules.EditProblem(open, ProjectRole.Annotator));
    }

    [Fact]
    public void The_review_sample_is_its_percentage_of_images_and_the_same_on_every_call()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => Guid.CreateVersion7()).ToList();
        int sampled = ids.Count(id => WorkflowRules.NeedsReview(id, 0, "ann", 30, []));
        Assert.InRange(sampled, 2_800, 3_200); // 30% ± 2% (4.4 standard deviations)
        Assert.All(ids.Take(100), id => Assert.Equal(WorkflowRules.NeedsReview(id, 0, "ann", 30, []), WorkflowRules.NeedsReview(id, 0, "ann", 30, [])));
        Assert.All(ids.Take(100), id => Assert.True(WorkflowRules.NeedsReview(id, 0, "ann", 0, ["ann"])));
        Assert.All(ids.Take(100), id => Assert.False(WorkflowRules.NeedsReview(id, 0, "ann", 0, ["bob"])));
        // The bucket by hand: FNV-1a 64 over the id's 16 bytes, then the round, modulo 100.
        var known = Guid.Parse("00000000-0000-0000-0000-000000000000");
        ulong h = 14695981039346656037;
        for (int i = 0; i < 16; i++) h = (h ^ 0) * 1099511628211;
        h = (h ^ 2) * 1099511628211;
        Assert.Equal((int)(h % 100), WorkflowRules.SampleBucket(known, 2));
    }
}
