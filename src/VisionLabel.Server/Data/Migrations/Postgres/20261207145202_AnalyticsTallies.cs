using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AnalyticsTallies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AnalyticsCursors",
                columns: table => new
                {
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    OpsCountedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    EventsCountedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AnalyticsCursors", x => x.ProjectId);
                    table.ForeignKey(
                        name: "FK_AnalyticsCursors_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Turnarounds",
                columns: table => new
                {
                    SubmissionId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    ImageId = table.Column<Guid>(type: "uuid", nullable: false),
                    Annotator = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    SubmittedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    GuidelineVersion = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    Round = table.Column<int>(type: "integer", nullable: false),
                    AutoApproved = table.Column<bool>(type: "boolean", nullable: false),
                    LeaseToSubmitSeconds = table.Column<double>(type: "double precision", nullable: true),
                    DecisionId = table.Column<Guid>(type: "uuid", nullable: true),
                    Approved = table.Column<bool>(type: "boolean", nullable: true),
                    SubmitToDecisionSeconds = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Turnarounds", x => x.SubmissionId);
                    table.ForeignKey(
                        name: "FK_Turnarounds_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Turnarounds_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WorkEvents_ProjectId_Kind_At",
                table: "WorkEvents",
                columns: new[] { "ProjectId", "Kind", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_ReplicaKind",
                table: "Images",
                columns: new[] { "ProjectId", "ReplicaKind" },
                filter: "\"ReplicaOf\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_AnnotationOps_AppliedAt",
                table: "AnnotationOps",
                column: "AppliedAt");

            migrationBuilder.CreateIndex(
                name: "IX_Turnarounds_ImageId",
                table: "Turnarounds",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_Turnarounds_ProjectId_SubmittedAt",
                table: "Turnarounds",
                columns: new[] { "ProjectId", "SubmittedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AnalyticsCursors");

            migrationBuilder.DropTable(
                name: "Turnarounds");

            migrationBuilder.DropIndex(
                name: "IX_WorkEvents_ProjectId_Kind_At",
                table: "WorkEvents");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_ReplicaKind",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_AnnotationOps_AppliedAt",
                table: "AnnotationOps");
        }
    }
}
