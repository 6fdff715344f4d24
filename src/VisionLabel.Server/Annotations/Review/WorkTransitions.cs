using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Notifications;

namespace VisionLabel.Server.Annotations;

/// <summary>What a workflow call did: the image's new state, or why it was refused (or that there is no such image).</summary>
public sealed record WorkOutcome(WorkStateDto? State, WorkRefusal? Refusal)
{
    public static WorkOutcome NotFound(Guid imageId) => new(null, new WorkRefusal(404, "Image not found", $"No image has id {imageId}."));
}

/// <summary>
/// The one path for workflow changes of an image (REST routes, the hub, PATCH status): submit, approve, reject, reopen,
/// renewing and releasing a lease. Each runs inside the image's exclusive section (no op is applied meanwhile, in any
/// process), decides with <see cref="WorkflowRules"/>, and writes with a compare-and-set on the state it decided on
/// (the queue claims leases without that section), so a concurrent change makes it decide again rather than overwrite.
/// Everyone on the image receives WorkChanged (and ImageStatusChanged when the status moved); the people concerned are
/// notified.
/// </summary>
/// <summary>Told after a submission committed (Quality scores it against ground truth and pushes the figure live,
/// answers a honeypot's feedback, merges consensus copies).</summary>
public interface ISubmissionObserver
{
    /// <returns>Feedback for the submitter (a honeypot's), or null.</returns>
    Task<SubmissionFeedback?> SubmittedAsync(Guid projectId, Guid imageId, Guid submissionId, string annotator);
}

/// <summary>Told of each activity event an editor reports (Analytics measures active time from them).</summary>
public interface IActivityObserver
{
    Task ActivityAsync(Guid imageId, string userName, bool hidden);
}

public sealed class WorkTransitions(VisionLabelDb db, AnnotationSequencer sequencer, OpBroadcaster broadcaster, IHubContext<AnnotationsHub> hub,
    Notifier notifier, TimeProvider time, IEnumerable<ISubmissionObserver> observers, Guidelines.GuidelineVersions guidelines, Jobs.LiveEvents live, Webhooks.Webhooks webhooks, ILogger<WorkTransitions> log)
{
    private const int MaxAttempts = 5;

    public Task<WorkOutcome> TransitionAsync(Guid imageId, WorkAction action, Actor actor, string? reason = null, string? comment = null) =>
        comment?.Length > 5000 ? Task.FromResult(new WorkOutcome(null, new WorkRefusal(400, "Comment too long", $"A rejection's comment is at most 5,000 characters, not {comment.Length:N0}.", "comment")))
        : ChangeAsync(imageId, actor, (image, project, now) =>
        {
            if (image.ReplicaOf is not null) return DecideCopy(image, action, actor, now);
            bool needsReview = action != WorkAction.Submit ||
                               WorkflowRules.NeedsReview(imageId, image.ReworkRounds, actor.Name, project.ReviewPercent, project.FullReviewFor);
            return WorkflowRules.Decide(WorkState.Of(image), action, actor, now, needsReview, project.AllowSelfReview, reason, project.RejectReasons);
        }, comment);

    /// <summary>Consensus merged the image's copies into it (Quality.Consensus): annotate → submitted, or approved at once when
    /// the annotators agreed and the review sample skips it; an image they disagreed on always waits, for adjudication.
    /// Recorded as "merged" by <paramref name="author"/>, with no submitter (nobody's own work).</summary>
    public Task<WorkOutcome> MergedAsync(Guid imageId, bool adjudicate, string author = "consensus") =>
        ChangeAsync(imageId, new Actor(author, Accounts.ProjectRole.Owner), (image, project, now) =>
        {
            var s = WorkState.Of(image);
            if (WorkflowRules.QueueOf(s.Status) != WorkStage.Annotate || s.Status == ImageStatus.Rejected)
                return (null, new WorkRefusal(409, "Not in the annotate stage", $"The image is '{WorkflowRules.StageName(s, now)}'; the merged annotations stand, its stage does not move."));
            bool review = adjudicate || WorkflowRules.NeedsReview(imageId, s.ReworkRounds, author, project.ReviewPercent, project.FullReviewFor);
            return (new WorkDecision(s.WithoutLease with
            {
                Status = review ? ImageStatus.Submitted : ImageStatus.Approved, SubmittedBy = null, SubmittedAt = now,
                ReviewedBy = null, ReviewedAt = review ? null : now,
            }, WorkEventKind.Merged, null), null);
        });

    /// <summary>A private copy (consensus or honeypot) is its owner's to submit, and is final when submitted: nobody reviews
    /// a copy (the image it is of is reviewed, with the merged result).</summary>
    private static (WorkDecision?, WorkRefusal?) DecideCopy(Image copy, WorkAction action, Actor actor, DateTime now)
    {
        if (action != WorkAction.Submit)
            return (null, new WorkRefusal(409, "A private copy", "This is one annotator's own copy of an image (consensus or a honeypot): it is submitted, not reviewed. Review the image it is a copy of."));
        if (copy.ReplicaOwner != actor.Name)
            return (null, new WorkRefusal(403, $"The copy of {copy.ReplicaOwner}", $"This copy of the image is {copy.ReplicaOwner}'s own work; only they submit it."));
        return WorkflowRules.Decide(WorkState.Of(copy), WorkAction.Submit, actor, now, needsReview: false);
    }

    /// <summary>Extends the caller's lease by the project's lease time (the editor's heartbeat).</summary>
    public Task<WorkOutcome> RenewLeaseAsync(Guid imageId, Actor actor) =>
        ChangeAsync(imageId, actor, (image, project, now) =>
        {
            var s = WorkState.Of(image);
            if (s.LeaseHolder != actor.Name) // expired but still theirs (nobody took it since) renews
                return (null, new WorkRefusal(409, "No lease", s.ActiveHolder(now) is { } holder
                    ? $"{holder} holds this image now (your lease ran out); take other work from the queue."
                    : "You hold no lease on this image; take it from the queue (POST /api/projects/{projectId}/queue/next)."));
            return (new WorkDecision(s with { LeaseExpiresAt = now.AddSeconds(project.LeaseSeconds) }, WorkEventKind.Leased, null), null);
        }, record: false);

    /// <summary>Gives the lease back (skip): the holder, or an owner releasing anyone's.</summary>
    public Task<WorkOutcome> ReleaseLeaseAsync(Guid imageId, Actor actor) =>
        ChangeAsync(imageId, actor, (image, project, now) =>
        {
            var s = WorkState.Of(image);
            if (s.ActiveHolder(now) is not { } holder) return (new WorkDecision(s.WithoutLease, WorkEventKind.Released, null), null);
            if (holder != actor.Name && actor.Role < Accounts.ProjectRole.Owner)
                return (null, new WorkRefusal(403, $"Leased by {holder}", $"{holder} holds this image; they release it, or an owner does."));
            return (new WorkDecision(s.WithoutLease, WorkEventKind.Released, holder), null);
        });

    private delegate (WorkDecision? Decision, WorkRefusal? Refusal) Decider(Image image, Project project, DateTime now);

    private Task<WorkOutcome> ChangeAsync(Guid imageId, Actor actor, Decider decide, string? comment = null, bool record = true) =>
        sequencer.ExclusiveAsync(imageId, async () =>
        {
            for (int attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                db.ChangeTracker.Clear();
                var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId);
                if (image is null) return WorkOutcome.NotFound(imageId);
                var project = await db.Projects.AsNoTracking().FirstAsync(p => p.Id == image.ProjectId);
                var now = time.GetUtcNow().UtcDateTime;
                var before = WorkState.Of(image);
                var (decision, refusal) = decide(image, project, now);
                if (refusal is not null) return new WorkOutcome(null, refusal);
                var after = decision!.State;
                if (after == before) return new WorkOutcome(WorkStateDto.From(image, now, await LastRejectionAsync(image)), null); // nothing to write (a release of a free lease)

                await using var tx = await db.Database.BeginTransactionAsync();
                // Compare-and-set on what was decided on: the queue may have leased it meanwhile.
                int changed = await db.Images.IgnoreQueryFilters().Where(i => i.Id == imageId && i.Status == before.Status && i.LeaseHolder == before.LeaseHolder && i.LeaseExpiresAt == before.LeaseExpiresAt
                                                         && i.AnnotateAssignee == before.AnnotateAssignee && i.ReviewAssignee == before.ReviewAssignee)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(i => i.Status, after.Status).SetProperty(i => i.AnnotateAssignee, after.AnnotateAssignee).SetProperty(i => i.ReviewAssignee, after.ReviewAssignee)
                        .SetProperty(i => i.LeaseHolder, after.LeaseHolder).SetProperty(i => i.LeaseStage, after.LeaseStage).SetProperty(i => i.LeaseExpiresAt, after.LeaseExpiresAt)
                        .SetProperty(i => i.SubmittedBy, after.SubmittedBy).SetProperty(i => i.SubmittedAt, after.SubmittedAt)
                        .SetProperty(i => i.ReviewedBy, after.ReviewedBy).SetProperty(i => i.ReviewedAt, after.ReviewedAt)
                        .SetProperty(i => i.ReworkRounds, after.ReworkRounds).SetProperty(i => i.UpdatedAt, now));
                if (changed == 0) continue; // changed under us: decide again on what is there now
                WorkEvent? recorded = null;
                if (record)
                {
                    recorded = new WorkEvent
                    {
                        ProjectId = image.ProjectId, ImageId = imageId, Kind = decision.Event, Actor = actor.Name, Subject = decision.Subject,
                        Stage = before.LeaseStage ?? WorkflowRules.QueueOf(before.Status), Round = after.ReworkRounds, At = now,
                        Reason = decision.Reason,
                        Comment = decision.Event == WorkEventKind.Rejected && !string.IsNullOrWhiteSpace(comment) ? comment.Trim() : null,
                        GuidelineVersion = await guidelines.CurrentAsync(db, image.ProjectId),
                    };
                    db.WorkEvents.Add(recorded);
                    if (recorded.Kind is WorkEventKind.Submitted or WorkEventKind.AutoApproved)
                        await SnapshotAsync(image, recorded); // in the same transaction: the submission is exactly what was there
                    await db.SaveChangesAsync();
                }
                await tx.CommitAsync();

                Copy(after, image);
                image.UpdatedAt = now;
                var dto = WorkStateDto.From(image, now, recorded?.Kind == WorkEventKind.Rejected ? recorded : null);
                if (after.Status != before.Status)
                {
                    sequencer.StatusChanged(imageId, after.Status);
                    await broadcaster.StatusChangedAsync(imageId, after.Status, actor.Name);
                }
                if (record) await SendWorkChangedAsync(dto); // a renewal (the heartbeat) changes nothing others show
                if (recorded is not null)
                {
                    await NotifyAsync(image, project, recorded);
                    await live.WorkLandedAsync(image.ProjectId, imageId, recorded.Kind);
                    await RaiseWebhooksAsync(image, recorded);
                }
                if (recorded?.Kind is WorkEventKind.Submitted or WorkEventKind.AutoApproved)
                    foreach (var observer in observers)
                        // Observers are idempotent (a score pushed again, a merge claimed once): a failure that may pass (a busy
                        // database under load) is tried again, so a consensus merge is not lost to it.
                        for (int tries = 1; ; tries++)
                        {
                            try
                            {
                                if (await observer.SubmittedAsync(image.ProjectId, imageId, recorded.Id, actor.Name) is { } feedback) dto = dto with { Feedback = feedback };
                                break;
                            }
                            catch (Exception e) when (tries < 3)
                            {
                                log.LogWarning(e, "After the submission of image {ImageId}: {Observer} failed (try {Try}); trying again", imageId, observer.GetType().Name, tries);
                                await Task.Delay(200 * tries);
                            }
                            catch (Exception e)
                            {
                                log.LogWarning(e, "After the submission of image {ImageId}: {Observer} failed; the submission stands", imageId, observer.GetType().Name);
                                break;
                            }
                        }
                return new WorkOutcome(dto, null);
            }
            return new WorkOutcome(null, new WorkRefusal(409, "Changed meanwhile", "The image's workflow state kept changing while this was decided; try again."));
        });

    /// <summary>The submission as the annotator made it: the image's accepted annotations now (proposals nobody accepted are not an answer).</summary>
    private async Task SnapshotAsync(Image image, WorkEvent submission)
    {
        var shapes = await db.Annotations.AsNoTracking().Where(a => a.ImageId == image.Id && a.State == AnnotationState.Accepted)
            .Select(a => new { a.Id, a.LabelId, a.Kind, a.Geometry }).ToListAsync();
        db.SubmittedShapes.AddRange(shapes.Select(a => new SubmittedShape
        {
            SubmissionId = submission.Id, ProjectId = image.ProjectId, ImageId = image.Id, Annotator = submission.Actor,
            AnnotationId = a.Id, LabelId = a.LabelId, Kind = a.Kind, Geometry = a.Geometry,
        }));
    }

    public async Task<WorkEvent?> LastRejectionAsync(Image image) => image.Status != ImageStatus.Rejected ? null
        : await db.WorkEvents.AsNoTracking().Where(e => e.ImageId == image.Id && e.Kind == WorkEventKind.Rejected).OrderByDescending(e => e.Id).FirstOrDefaultAsync();

    public Task SendWorkChangedAsync(WorkStateDto dto) =>
        hub.Clients.Group(OpBroadcaster.ImageGroup(dto.ImageId)).SendAsync("WorkChanged", dto, CancellationToken.None);

    private async Task NotifyAsync(Image image, Project project, WorkEvent e)
    {
        switch (e.Kind)
        {
            case WorkEventKind.Rejected:
                await notifier.NotifyAsync([image.SubmittedBy], NotificationKind.Rejected, image.ProjectId, image.Id,
                    $"{e.Actor} rejected {image.FileName} ({e.Reason}){(e.Comment is null ? "" : ": " + e.Comment)}. It is first in your queue.", except: e.Actor);
                break;
            case WorkEventKind.Submitted when project.ReviewQueueAlert > 0:
                // Told once, when the waiting count reaches the alert level (not at every submission above it).
                int waiting = await db.Images.CountAsync(i => i.ProjectId == image.ProjectId && i.Status == ImageStatus.Submitted);
                if (waiting != project.ReviewQueueAlert) break;
                var reviewers = await (from m in db.ProjectMembers
                                       join u in db.Users on m.UserId equals u.Id
                                       where m.ProjectId == image.ProjectId && (m.Role == Accounts.ProjectRole.Reviewer || m.Role == Accounts.ProjectRole.Owner)
                                       select u.UserName).ToListAsync();
                await notifier.NotifyAsync(reviewers, NotificationKind.ReviewQueue, image.ProjectId, null,
                    $"{waiting} images wait for review in {project.Name}.");
                break;
        }
    }

    /// <summary>The workflow's webhook events: submitted, approved (an auto-approval is both), rejected. Never throws.</summary>
    private async Task RaiseWebhooksAsync(Image image, WorkEvent e)
    {
        var data = new
        {
            imageId = image.Id, fileName = image.FileName, by = e.Actor, annotator = image.SubmittedBy, round = e.Round,
            reason = e.Reason, comment = e.Comment, guidelineVersion = e.GuidelineVersion,
        };
        if (e.Kind is WorkEventKind.Submitted or WorkEventKind.AutoApproved) await webhooks.RaiseAsync(image.ProjectId, Webhooks.WebhookEvents.ImageSubmitted, data);
        if (e.Kind is WorkEventKind.Approved or WorkEventKind.AutoApproved) await webhooks.RaiseAsync(image.ProjectId, Webhooks.WebhookEvents.ImageApproved, data);
        if (e.Kind is WorkEventKind.Rejected) await webhooks.RaiseAsync(image.ProjectId, Webhooks.WebhookEvents.ImageRejected, data);
    }

    private static void Copy(WorkState s, Image i)
    {
        i.Status = s.Status; i.AnnotateAssignee = s.AnnotateAssignee; i.ReviewAssignee = s.ReviewAssignee; i.LeaseHolder = s.LeaseHolder;
        i.LeaseStage = s.LeaseStage; i.LeaseExpiresAt = s.LeaseExpiresAt; i.SubmittedBy = s.SubmittedBy; i.SubmittedAt = s.SubmittedAt;
        i.ReviewedBy = s.ReviewedBy; i.ReviewedAt = s.ReviewedAt; i.ReworkRounds = s.ReworkRounds;
    }
}
