using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

public abstract class Jobs : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable("Jobs", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            Kind = t.Column<string>(maxLength: 32, nullable: false),
            ProjectId = t.Column<Guid>(nullable: false),
            Status = t.Column<string>(maxLength: 16, nullable: false),
            Payload = t.Column<string>(nullable: false),
            Total = t.Column<int>(nullable: false),
            Done = t.Column<int>(nullable: false),
            Failed = t.Column<int>(nullable: false),
            Attempts = t.Column<int>(nullable: false),
            MaxAttempts = t.Column<int>(nullable: false),
            LeaseOwner = t.Column<string>(maxLength: 200, nullable: true),
            LeaseExpiresAt = t.Column<DateTime>(nullable: true),
            NextAttemptAt = t.Column<DateTime>(nullable: false),
            LastError = t.Column<string>(nullable: true),
            CancelRequested = t.Column<bool>(nullable: false),
            CreatedAt = t.Column<DateTime>(nullable: false),
            StartedAt = t.Column<DateTime>(nullable: true),
            FinishedAt = t.Column<DateTime>(nullable: true),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_Jobs", x => x.Id);
            t.ForeignKey("FK_Jobs_Projects_ProjectId", x => x.ProjectId, "Projects", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_Jobs_ProjectId", "Jobs", "ProjectId");
        m.CreateIndex("IX_Jobs_Status_NextAttemptAt", "Jobs", ["Status", "NextAttemptAt"]);

        m.CreateTable("JobItems", t => new
        {
            JobId = t.Column<Guid>(nullable: false),
            ImageId = t.Column<Guid>(nullable: false),
            Status = t.Column<string>(maxLength: 16, nullable: false),
            Error = t.Column<string>(nullable: true),
            FinishedAt = t.Column<DateTime>(nullable: true),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_JobItems", x => new { x.JobId, x.ImageId });
            t.ForeignKey("FK_JobItems_Images_ImageId", x => x.ImageId, "Images", "Id", onDelete: ReferentialAction.Cascade);
            t.ForeignKey("FK_JobItems_Jobs_JobId", x => x.JobId, "Jobs", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_JobItems_ImageId", "JobItems", "ImageId");
        m.CreateIndex("IX_JobItems_JobId_Status", "JobItems", ["JobId", "Status"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("JobItems");
        m.DropTable("Jobs");
    }
}
