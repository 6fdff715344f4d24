using System.Diagnostics.Metrics;

namespace VisionLabel.Server.Operations;

/// <summary>
/// VisionLabel's own meters (docs/operations.md lists each with its unit and meaning), exported with the ASP.NET Core,
/// HTTP client and runtime meters on /metrics and over OTLP. Made by the host's IMeterFactory, so they live and die with
/// the app; the names follow OpenTelemetry's conventions (Prometheus shows them with underscores and unit suffixes,
/// e.g. visionlabel_ops_applied_total).
/// </summary>
public sealed class ServerMetrics
{
    public const string MeterName = "VisionLabel";

    public ServerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        OpsApplied = meter.CreateCounter<long>("visionlabel.ops.applied", "{op}", "Annotation ops committed by this process, from every write path (editors, REST, bulk, pre-labeling, imports)");
        OpAck = meter.CreateHistogram<double>("visionlabel.op.ack.duration", "s", "From an editor's op arriving on /hubs/annotations to its ack (applied or refused)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        EditorsConnected = meter.CreateUpDownCounter<long>("visionlabel.editors.connected", "{connection}", "Editor connections (/hubs/annotations) open on this process");
        JobImages = meter.CreateCounter<long>("visionlabel.job.images", "{image}", "Images a job finished (tags: kind; outcome done or failed)");
        JobFailures = meter.CreateCounter<long>("visionlabel.job.failures", "{job}", "Jobs that failed for good after their attempts (tag: kind)");
        ExportBytes = meter.CreateCounter<long>("visionlabel.export.bytes", "By", "Bytes of dataset exports written to clients");
        SignInFailures = meter.CreateCounter<long>("visionlabel.signin.failures", "{attempt}", "Password sign-ins refused (tag reason: password, unknown, locked)");
        Meter = meter;
    }

    public Meter Meter { get; }
    public Counter<long> OpsApplied { get; }
    public Histogram<double> OpAck { get; }
    public UpDownCounter<long> EditorsConnected { get; }
    public Counter<long> JobImages { get; }
    public Counter<long> JobFailures { get; }
    public Counter<long> ExportBytes { get; }
    public Counter<long> SignInFailures { get; }

    public void JobImage(string kind, bool failed) =>
        JobImages.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", failed ? "failed" : "done"));
}
