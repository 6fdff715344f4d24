using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>A job as users see it. Chunks: how many pieces it was split into for the workers (0 until enqueued).
/// ImportReport: what a finished import did (kind import).</summary>
public sealed record JobDto(
    Guid Id, string Kind, Guid ProjectId, JobStatus Status, int Total, int Done, int Failed, int Attempts, int MaxAttempts,
    string? LastError, bool CancelRequested, DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, int Chunks, Datasets.ImportReport? ImportReport = null)
{
    public static JobDto From(Job j) => new(j.Id, j.Kind, j.ProjectId, j.Status, j.Total, j.Done, j.Failed, j.Attempts, j.MaxAttempts,
        j.LastError, j.CancelRequested, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Chunks,
        j.Kind == Datasets.ImportJob.JobKind && j.Result is { } r ? System.Text.Json.JsonSerializer.Deserialize<Datasets.ImportReport>(r, System.Text.Json.JsonSerializerOptions.Web) : null);
}

public sealed record JobItemDto(Guid ImageId, JobItemStatus Status, string? Error, DateTime? FinishedAt);
