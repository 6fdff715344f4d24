using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class WorkQueue : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "AllowSelfReview",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "FullReviewFor",
                table: "Projects",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<int>(
                name: "LeaseSeconds",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1800);

            migrationBuilder.AddColumn<int>(
                name: "MaxPerAnnotator",
                table: "Projects",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "QueuePriority",
                table: "Projects",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Upload");

            migrationBuilder.AddColumn<int>(
                name: "QueueSeed",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "RejectReasons",
                table: "Projects",
                type: "TEXT",
                nullable: false,
                defaultValue: "[\"missed object\",\"wrong label\",\"loose box\",\"other\"]");

            migrationBuilder.AddColumn<int>(
                name: "ReviewPercent",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: 100);

            migrationBuilder.AddColumn<int>(
                name: "ReviewQueueAlert",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: 20);

            migrationBuilder.AddColumn<string>(
                name: "AnnotateAssignee",
                table: "Images",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Confidence",
                table: "Images",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LeaseExpiresAt",
                table: "Images",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseHolder",
                table: "Images",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseStage",
                table: "Images",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewAssignee",
                table: "Images",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ReviewedAt",
                table: "Images",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewedBy",
                table: "Images",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ReworkRounds",
                table: "Images",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "ShuffleKey",
                table: "Images",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "SubmittedAt",
                table: "Images",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SubmittedBy",
                table: "Images",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ParentId",
                table: "Comments",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Notifications",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Text = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ReadAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Notifications", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Notifications_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "WorkEvents",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Actor = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Stage = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Comment = table.Column<string>(type: "TEXT", nullable: true),
                    Round = table.Column<int>(type: "INTEGER", nullable: false),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WorkEvents", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WorkEvents_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_WorkEvents_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_AnnotateAssignee",
                table: "Images",
                columns: new[] { "ProjectId", "AnnotateAssignee" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_LeaseHolder",
                table: "Images",
                columns: new[] { "ProjectId", "LeaseHolder" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_ReviewAssignee",
                table: "Images",
                columns: new[] { "ProjectId", "ReviewAssignee" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_ShuffleKey",
                table: "Images",
                columns: new[] { "ProjectId", "ShuffleKey" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_SubmittedBy",
                table: "Images",
                columns: new[] { "ProjectId", "SubmittedBy" });

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_ProjectId",
                table: "Notifications",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_UserName_ReadAt",
                table: "Notifications",
                columns: new[] { "UserName", "ReadAt" });

            migrationBuilder.CreateIndex(
                name: "IX_WorkEvents_ImageId",
                table: "WorkEvents",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_WorkEvents_ProjectId_At",
                table: "WorkEvents",
                columns: new[] { "ProjectId", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Notifications");

            migrationBuilder.DropTable(
                name: "WorkEvents");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_AnnotateAssignee",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_LeaseHolder",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_ReviewAssignee",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_ShuffleKey",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_SubmittedBy",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "AllowSelfReview",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "FullReviewFor",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "LeaseSeconds",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "MaxPerAnnotator",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "QueuePriority",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "QueueSeed",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "RejectReasons",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "ReviewPercent",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "ReviewQueueAlert",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "AnnotateAssignee",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "Confidence",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "LeaseExpiresAt",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "LeaseHolder",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "LeaseStage",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReviewAssignee",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReviewedAt",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReviewedBy",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReworkRounds",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ShuffleKey",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "SubmittedAt",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "SubmittedBy",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ParentId",
                table: "Comments");
        }
    }
}
