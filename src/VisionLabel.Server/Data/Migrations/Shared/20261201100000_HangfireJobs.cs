using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

/// <summary>
/// Jobs run on Hangfire: its storage now claims, leases and schedules, so the lease columns go; Chunks records how
/// many Hangfire jobs a job was split into (0: not yet enqueued). Jobs queued or running under the old queue are
/// enqueued on Hangfire at start-up and resume from their pending items.
/// </summary>
public abstract class HangfireJobs : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.DropIndex("IX_Jobs_Status_NextAttemptAt", "Jobs");
        foreach (var column in new[] { "LeaseOwner", "LeaseExpiresAt", "NextAttemptAt" }) DropColumn(m, column);
        m.AddColumn<int>("Chunks", "Jobs", nullable: false, defaultValue: 0);
        m.CreateIndex("IX_Jobs_Status", "Jobs", "Status");
        // A job the old queue was running is waiting for a worker again.
        m.Sql("UPDATE \"Jobs\" SET \"Status\" = 'Queued' WHERE \"Status\" = 'Running'");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropIndex("IX_Jobs_Status", "Jobs");
        m.DropColumn("Chunks", "Jobs");
        m.AddColumn<string>("LeaseOwner", "Jobs", maxLength: 200, nullable: true);
        m.AddColumn<DateTime>("LeaseExpiresAt", "Jobs", nullable: true);
        m.AddColumn<DateTime>("NextAttemptAt", "Jobs", nullable: false, defaultValue: DateTime.UnixEpoch);
        m.CreateIndex("IX_Jobs_Status_NextAttemptAt", "Jobs", ["Status", "NextAttemptAt"]);
    }

    // EF's SQLite provider rebuilds the table for a column drop, which needs a model snapshot these hand-written
    // migrations do not have; SQLite 3.35+ drops a column that no index or constraint uses in place.
    private void DropColumn(MigrationBuilder m, string column)
    {
        if (ActiveProvider == "Microsoft.EntityFrameworkCore.Sqlite") m.Sql($"ALTER TABLE \"Jobs\" DROP COLUMN \"{column}\";");
        else m.DropColumn(column, "Jobs");
    }
}
