using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Operations;

/// <summary>
/// The work queue's gauges, read from the database when metrics are collected (a scrape, or an OTLP export): leases
/// held now, and images waiting to be annotated or reviewed (docs/operations.md). Instance-wide figures, the same from
/// every process. A collection that cannot reach the database reports nothing rather than failing the scrape.
/// </summary>
public sealed class WorkGauges
{
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<WorkGauges> _log;

    public WorkGauges(ServerMetrics metrics, IServiceScopeFactory scopes, ILogger<WorkGauges> log)
    {
        (_scopes, _log) = (scopes, log);
        metrics.Meter.CreateObservableGauge("visionlabel.leases.held", Leases, "{lease}", "Images leased to someone now (the lease not expired)");
        metrics.Meter.CreateObservableGauge("visionlabel.queue.depth", Queue, "{image}", "Images waiting: stage annotate (new, pre-labeled, in progress or rejected, not leased) or review (submitted)");
    }

    private IEnumerable<Measurement<long>> Leases() => Read(db =>
    {
        var now = DateTime.UtcNow;
        return [new Measurement<long>(db.Images.LongCount(i => i.LeaseHolder != null && i.LeaseExpiresAt > now))];
    });

    private IEnumerable<Measurement<long>> Queue() => Read(db =>
    {
        var now = DateTime.UtcNow;
        ImageStatus[] open = [ImageStatus.New, ImageStatus.Prelabeled, ImageStatus.InProgress, ImageStatus.Rejected];
        long annotate = db.Images.LongCount(i => open.Contains(i.Status) && (i.LeaseHolder == null || i.LeaseExpiresAt <= now));
        long review = db.Images.LongCount(i => i.Status == ImageStatus.Submitted);
        return [new Measurement<long>(annotate, new KeyValuePair<string, object?>("stage", "annotate")), new Measurement<long>(review, new KeyValuePair<string, object?>("stage", "review"))];
    });

    private IEnumerable<Measurement<long>> Read(Func<VisionLabelDb, Measurement<long>[]> query)
    {
        try
        {
            using var scope = _scopes.CreateScope();
            return query(scope.ServiceProvider.GetRequiredService<VisionLabelDb>());
        }
        catch (Exception e) when (e is InvalidOperationException or DbUpdateException or System.Data.Common.DbException or TimeoutException)
        {
            _log.LogWarning(e, "The work queue's gauges could not be read; they are left out of this collection");
            return [];
        }
    }
}
