using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Data;

/// <summary>
/// The project database. One model for both providers; each provider has its own context type (below) only so that
/// each has its own migrations and model snapshot (Data/Migrations/Sqlite, Data/Migrations/Postgres), as EF Core's
/// tooling expects. Everything else asks for VisionLabelDb.
/// </summary>
public abstract class VisionLabelDb(DbContextOptions options) : IdentityUserContext<UserAccount, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>The keys that sign cookies and antiforgery tokens, shared by every server process.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<AccessToken> AccessTokens => Set<AccessToken>();
    public DbSet<ProjectMember> ProjectMembers => Set<ProjectMember>();
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<Label> Labels => Set<Label>();
    public DbSet<Image> Images => Set<Image>();
    public DbSet<Annotation> Annotations => Set<Annotation>();
    public DbSet<DetectionModel> Models => Set<DetectionModel>();
    public DbSet<ProjectModelMapping> ModelMappings => Set<ProjectModelMapping>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobItem> JobItems => Set<JobItem>();
    public DbSet<AnnotationOp> AnnotationOps => Set<AnnotationOp>();
    public DbSet<Comment> Comments => Set<Comment>();
    public DbSet<Annotations.WorkEvent> WorkEvents => Set<Annotations.WorkEvent>();
    public DbSet<Notifications.Notification> Notifications => Set<Notifications.Notification>();
    public DbSet<Quality.GroundTruth> GroundTruth => Set<Quality.GroundTruth>();
    public DbSet<Analytics.ActiveTime> ActiveTimes => Set<Analytics.ActiveTime>();
    public DbSet<Analytics.ActivityCursor> ActivityCursors => Set<Analytics.ActivityCursor>();
    public DbSet<Analytics.OpTally> OpTallies => Set<Analytics.OpTally>();
    public DbSet<Analytics.OpTallyMark> OpTallyMarks => Set<Analytics.OpTallyMark>();
    public DbSet<Analytics.AnalyticsCursor> AnalyticsCursors => Set<Analytics.AnalyticsCursor>();
    public DbSet<Analytics.Turnaround> Turnarounds => Set<Analytics.Turnaround>();
    public DbSet<Annotations.ProposalOutcome> ProposalOutcomes => Set<Annotations.ProposalOutcome>();
    public DbSet<ModelLoop.Comparison> Comparisons => Set<ModelLoop.Comparison>();
    public DbSet<ModelLoop.ComparisonModel> ComparisonModels => Set<ModelLoop.ComparisonModel>();
    public DbSet<ModelLoop.ComparisonImage> ComparisonImages => Set<ModelLoop.ComparisonImage>();
    public DbSet<ModelLoop.ComparisonOutput> ComparisonOutputs => Set<ModelLoop.ComparisonOutput>();
    public DbSet<ModelLoop.ComparisonPair> ComparisonPairs => Set<ModelLoop.ComparisonPair>();
    public DbSet<ModelLoop.Judgement> Judgements => Set<ModelLoop.Judgement>();
    public DbSet<Guidelines.Guideline> Guidelines => Set<Guidelines.Guideline>();
    public DbSet<Guidelines.GuidelineCard> GuidelineCards => Set<Guidelines.GuidelineCard>();
    public DbSet<Guidelines.GuidelineAcknowledgement> GuidelineAcknowledgements => Set<Guidelines.GuidelineAcknowledgement>();
    public DbSet<Annotations.SubmittedShape> SubmittedShapes => Set<Annotations.SubmittedShape>();
    public DbSet<Webhooks.Webhook> Webhooks => Set<Webhooks.Webhook>();
    public DbSet<Webhooks.WebhookDelivery> WebhookDeliveries => Set<Webhooks.WebhookDelivery>();
    public DbSet<Webhooks.WebhookAttempt> WebhookAttempts => Set<Webhooks.WebhookAttempt>();

    protected override void ConfigureConventions(ModelConfigurationBuilder conventions)
    {
        // All times are UTC. SQLite hands DateTime back as Unspecified; say what it is so JSON carries the "Z".
        conventions.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    protected override void OnModelCreating(ModelBuilder model)
    {
        base.OnModelCreating(model); // Identity's user tables (AspNetUsers, AspNetUserClaims, AspNetUserLogins, AspNetUserTokens)
        model.Entity<AccessToken>(e =>
        {
            e.Property(t => t.Name).HasMaxLength(200);
            e.Property(t => t.Hash).HasMaxLength(64);
            e.Property(t => t.Scope).HasConversion<string>().HasMaxLength(8);
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasIndex(t => t.UserId);
            e.HasOne<UserAccount>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ProjectMember>(e =>
        {
            e.HasKey(m => new { m.ProjectId, m.UserId });
            e.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(m => m.UserId);
            e.HasOne<Project>().WithMany().HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<UserAccount>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        // Enums are stored by name: readable in psql/sqlite3 and safe against reordering.
        model.Entity<Project>(e =>
        {
            e.Property(p => p.Name).HasMaxLength(200);
            e.HasIndex(p => p.Name).IsUnique();
            e.Property(p => p.QueuePriority).HasConversion<string>().HasMaxLength(16);
            e.HasMany(p => p.Labels).WithOne().HasForeignKey(l => l.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Label>(e =>
        {
            e.Property(l => l.Name).HasMaxLength(200);
            e.Property(l => l.Color).HasMaxLength(7);
            e.Property(l => l.Supercategory).HasMaxLength(200);
            e.Property(l => l.Hotkey).HasMaxLength(8);
            // A label's attribute definitions are read and written with the label, never queried apart: one JSON column.
            e.Property(l => l.Attributes).HasConversion(LabelAttributeJson.Converter, LabelAttributeJson.Comparer);
            e.HasIndex(l => new { l.ProjectId, l.Name }).IsUnique();
            // One label per key in a project, also when two owners add labels at the same moment.
            e.HasIndex(l => new { l.ProjectId, l.Hotkey }).IsUnique().HasFilter("\"Hotkey\" IS NOT NULL");
        });
        model.Entity<Image>(e =>
        {
            e.Property(i => i.ContentHash).HasMaxLength(64);
            e.Property(i => i.Format).HasMaxLength(8);
            e.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(i => i.ProjectId).OnDelete(DeleteBehavior.Cascade);
            // A file once per project; its private copies (replicas) share its hash.
            e.HasIndex(i => new { i.ProjectId, i.ContentHash }).IsUnique().HasFilter("\"ReplicaOf\" IS NULL");
            // Replicas are hidden unless a query asks for them (IgnoreQueryFilters): only the paths that work on one image
            // by id (the editor's, the write path's, the workflow's) and the quality code that manages copies see them.
            e.HasQueryFilter(i => i.ReplicaOf == null);
            e.HasOne<Image>().WithMany().HasForeignKey(i => i.ReplicaOf).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(i => new { i.ReplicaOf, i.ReplicaOwner }).IsUnique().HasFilter("\"ReplicaOf\" IS NOT NULL");
            e.HasIndex(i => new { i.ProjectId, i.ReplicaKind }).HasFilter("\"ReplicaOf\" IS NOT NULL"); // a project's copies, without reading its images
            e.Property(i => i.ReplicaKind).HasConversion<string>().HasMaxLength(16);
            e.Property(i => i.ReplicaOwner).HasMaxLength(200);
            e.HasIndex(i => new { i.ProjectId, i.Status });
            e.Property(i => i.AnnotateAssignee).HasMaxLength(200);
            e.Property(i => i.ReviewAssignee).HasMaxLength(200);
            e.Property(i => i.LeaseHolder).HasMaxLength(200);
            e.Property(i => i.LeaseStage).HasConversion<string>().HasMaxLength(16);
            e.Property(i => i.SubmittedBy).HasMaxLength(200);
            e.Property(i => i.ReviewedBy).HasMaxLength(200);
            // The queue's look-ups: a person's leases, rework and assignments; the random order.
            e.HasIndex(i => new { i.ProjectId, i.LeaseHolder });
            e.HasIndex(i => new { i.ProjectId, i.SubmittedBy });
            e.HasIndex(i => new { i.ProjectId, i.AnnotateAssignee });
            e.HasIndex(i => new { i.ProjectId, i.ReviewAssignee });
            e.HasIndex(i => new { i.ProjectId, i.ShuffleKey });
        });
        model.Entity<Annotation>(e =>
        {
            e.Property(a => a.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.Source).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.State).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.GuidelineVersion).HasMaxLength(16);
            e.Property(a => a.Version).IsConcurrencyToken();
            e.HasOne<Image>().WithMany().HasForeignKey(a => a.ImageId).OnDelete(DeleteBehavior.Cascade);
            // Deleting a label that is in use is refused by the API unless asked for explicitly; then its
            // annotations go with it.
            e.HasOne<Label>().WithMany().HasForeignKey(a => a.LabelId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(a => a.ImageId);
            e.HasIndex(a => a.LabelId);
        });
        model.Entity<DetectionModel>(e =>
        {
            e.ToTable("Models");
            e.Property(m => m.Name).HasMaxLength(200);
            e.Property(m => m.ContentHash).HasMaxLength(64);
            e.Property(m => m.Family).HasMaxLength(16);
            e.Property(m => m.Task).HasMaxLength(16);
            e.HasIndex(m => m.ContentHash).IsUnique();
        });
        model.Entity<ProjectModelMapping>(e =>
        {
            e.ToTable("ProjectModelMappings");
            e.HasKey(m => new { m.ProjectId, m.ModelId });
            e.HasOne<Project>().WithMany().HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<DetectionModel>().WithMany().HasForeignKey(m => m.ModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(m => m.ModelId);
        });
        model.Entity<Job>(e =>
        {
            e.Property(j => j.Kind).HasMaxLength(32);
            e.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(j => j.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(j => j.Status);
            e.HasIndex(j => j.ProjectId);
        });
        model.Entity<JobItem>(e =>
        {
            e.HasKey(i => new { i.JobId, i.ImageId });
            e.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Job>().WithMany().HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(i => i.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(i => new { i.JobId, i.Status });
            e.HasIndex(i => i.ImageId);
        });
        model.Entity<AnnotationOp>(e =>
        {
            e.HasKey(o => new { o.ImageId, o.Seq });
            e.Property(o => o.ClientOpId).HasMaxLength(100);
            e.Property(o => o.GuidelineVersion).HasMaxLength(16);
            e.Property(o => o.AuthorId).HasMaxLength(200);
            e.Property(o => o.Type).HasMaxLength(16).HasConversion(t => OpTypes.Name(t), s => OpTypes.Parse(s));
            e.HasOne<Image>().WithMany().HasForeignKey(o => o.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(o => new { o.ImageId, o.AuthorId, o.ClientOpId }).IsUnique();
            e.HasIndex(o => o.AppliedAt); // the op tallies' catch-up reads the ops since its last count
            e.HasIndex(o => new { o.ImageId, o.AuthorId, o.Seq }); // an author's latest op on an image (undo)
        });
        model.Entity<Comment>(e =>
        {
            e.Property(c => c.Author).HasMaxLength(200);
            e.HasOne<Image>().WithMany().HasForeignKey(c => c.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(c => c.ImageId);
        });
        model.Entity<Annotations.WorkEvent>(e =>
        {
            e.Property(w => w.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(w => w.Stage).HasConversion<string>().HasMaxLength(16);
            e.Property(w => w.Actor).HasMaxLength(200);
            e.Property(w => w.Subject).HasMaxLength(200);
            e.Property(w => w.Reason).HasMaxLength(200);
            e.Property(w => w.GuidelineVersion).HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(w => w.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(w => w.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(w => new { w.ProjectId, w.At });
            e.HasIndex(w => new { w.ProjectId, w.Kind, w.At }); // the people figures count leases, skips and rejections by kind
            e.HasIndex(w => w.ImageId);
        });
        model.Entity<Guidelines.Guideline>(e =>
        {
            e.Property(g => g.PublishedBy).HasMaxLength(200);
            e.Ignore(g => g.Version);
            e.HasOne<Project>().WithMany().HasForeignKey(g => g.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(g => g.Cards).WithOne().HasForeignKey(c => c.GuidelineId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(g => new { g.ProjectId, g.Major, g.Minor }).IsUnique();
        });
        model.Entity<Guidelines.GuidelineCard>(e =>
        {
            e.HasOne<Label>().WithMany().HasForeignKey(c => c.LabelId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(c => c.GuidelineId);
            e.HasIndex(c => c.LabelId);
        });
        model.Entity<Guidelines.GuidelineAcknowledgement>(e =>
        {
            e.HasKey(a => new { a.ProjectId, a.UserName, a.Major });
            e.Property(a => a.UserName).HasMaxLength(200);
            e.HasOne<Project>().WithMany().HasForeignKey(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Analytics.ActiveTime>(e =>
        {
            e.HasKey(a => new { a.UserName, a.ImageId, a.Day });
            e.Property(a => a.UserName).HasMaxLength(200);
            e.HasOne<Project>().WithMany().HasForeignKey(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(a => new { a.ProjectId, a.Day });
        });
        model.Entity<Analytics.OpTally>(e =>
        {
            e.HasKey(t => new { t.ProjectId, t.Author, t.Day, t.GuidelineVersion, t.LabelId, t.Create });
            e.Property(t => t.Author).HasMaxLength(200);
            e.Property(t => t.GuidelineVersion).HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Analytics.AnalyticsCursor>(e =>
        {
            e.HasKey(c => c.ProjectId);
            e.HasOne<Project>().WithMany().HasForeignKey(c => c.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Annotations.ProposalOutcome>(e =>
        {
            e.HasKey(p => p.AnnotationId);
            e.Property(p => p.ModelId).HasMaxLength(200);
            e.Property(p => p.DecidedBy).HasMaxLength(200);
            e.Property(p => p.Outcome).HasConversion<string>().HasMaxLength(24);
            e.HasOne<Project>().WithMany().HasForeignKey(p => p.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(p => p.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(p => new { p.ProjectId, p.ModelId, p.ImageId });
        });
        model.Entity<ModelLoop.Comparison>(e =>
        {
            e.Property(c => c.Name).HasMaxLength(200);
            e.Property(c => c.CreatedBy).HasMaxLength(200);
            e.Property(c => c.Sampling).HasConversion<string>().HasMaxLength(16);
            e.Property(c => c.Secret).HasMaxLength(32);
            e.HasOne<Project>().WithMany().HasForeignKey(c => c.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(c => c.ProjectId);
        });
        model.Entity<ModelLoop.ComparisonModel>(e =>
        {
            e.HasKey(m => new { m.ComparisonId, m.ModelId });
            e.Property(m => m.Name).HasMaxLength(200);
            e.HasOne<ModelLoop.Comparison>().WithMany().HasForeignKey(m => m.ComparisonId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ModelLoop.ComparisonImage>(e =>
        {
            e.HasKey(i => new { i.ComparisonId, i.ImageId });
            e.HasOne<ModelLoop.Comparison>().WithMany().HasForeignKey(i => i.ComparisonId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(i => i.ImageId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ModelLoop.ComparisonOutput>(e =>
        {
            e.Property(o => o.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(o => o.Label).HasMaxLength(200);
            e.HasOne<ModelLoop.Comparison>().WithMany().HasForeignKey(o => o.ComparisonId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(o => o.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(o => new { o.ComparisonId, o.ImageId, o.ModelId });
        });
        model.Entity<ModelLoop.ComparisonPair>(e =>
        {
            e.HasOne<ModelLoop.Comparison>().WithMany().HasForeignKey(p => p.ComparisonId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(p => p.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(p => new { p.ComparisonId, p.Order });
        });
        model.Entity<ModelLoop.Judgement>(e =>
        {
            e.Property(j => j.Judge).HasMaxLength(200);
            e.Property(j => j.GuidelineVersion).HasMaxLength(16);
            e.Property(j => j.Choice).HasConversion<string>().HasMaxLength(16);
            e.HasOne<ModelLoop.Comparison>().WithMany().HasForeignKey(j => j.ComparisonId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<ModelLoop.ComparisonPair>().WithMany().HasForeignKey(j => j.PairId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(j => new { j.PairId, j.Judge }).IsUnique(); // one judgement per judge and pair
            e.HasIndex(j => new { j.ComparisonId, j.At });
        });
        model.Entity<Analytics.Turnaround>(e =>
        {
            e.HasKey(t => t.SubmissionId);
            e.Property(t => t.Annotator).HasMaxLength(200);
            e.Property(t => t.GuidelineVersion).HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(t => t.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(t => new { t.ProjectId, t.SubmittedAt });
        });
        model.Entity<Analytics.OpTallyMark>(e =>
        {
            e.HasKey(m => m.ImageId);
            e.HasOne<Image>().WithMany().HasForeignKey(m => m.ImageId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Analytics.ActivityCursor>(e =>
        {
            e.HasKey(a => new { a.UserName, a.ImageId });
            e.Property(a => a.UserName).HasMaxLength(200);
            e.HasOne<Project>().WithMany().HasForeignKey(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Quality.GroundTruth>(e =>
        {
            e.ToTable("GroundTruth");
            e.Property(g => g.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(g => g.Source).HasMaxLength(64);
            e.Property(g => g.CreatedBy).HasMaxLength(200);
            e.HasOne<Project>().WithMany().HasForeignKey(g => g.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Image>().WithMany().HasForeignKey(g => g.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Label>().WithMany().HasForeignKey(g => g.LabelId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(g => new { g.ProjectId, g.ImageId });
            e.HasIndex(g => g.ImageId);
            e.HasIndex(g => g.LabelId);
        });
        model.Entity<Annotations.SubmittedShape>(e =>
        {
            e.Property(s => s.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(s => s.Annotator).HasMaxLength(200);
            e.HasOne<Annotations.WorkEvent>().WithMany().HasForeignKey(s => s.SubmissionId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(s => new { s.ProjectId, s.ImageId });
            e.HasIndex(s => s.SubmissionId);
        });
        model.Entity<Notifications.Notification>(e =>
        {
            e.Property(n => n.UserName).HasMaxLength(200);
            e.Property(n => n.Kind).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(n => n.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(n => new { n.UserName, n.ReadAt });
        });
        VisionLabel.Server.Webhooks.WebhookModel.Configure(model);
    }
}

public sealed class SqliteVisionLabelDb(DbContextOptions<SqliteVisionLabelDb> options) : VisionLabelDb(options);

public sealed class PostgresVisionLabelDb(DbContextOptions<PostgresVisionLabelDb> options) : VisionLabelDb(options);
