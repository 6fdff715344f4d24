using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class GroundTruth : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "GroundTruth",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    ImageId = table.Column<Guid>(type: "uuid", nullable: false),
                    LabelId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Geometry = table.Column<string>(type: "text", nullable: false),
                    Crowd = table.Column<bool>(type: "boolean", nullable: false),
                    Source = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GroundTruth", x => x.Id);
                    table.ForeignKey(
                        name: "FK_GroundTruth_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_GroundTruth_Labels_LabelId",
                        column: x => x.LabelId,
                        principalTable: "Labels",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_GroundTruth_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SubmittedShapes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    SubmissionId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    ImageId = table.Column<Guid>(type: "uuid", nullable: false),
                    Annotator = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    AnnotationId = table.Column<Guid>(type: "uuid", nullable: false),
                    LabelId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Geometry = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SubmittedShapes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SubmittedShapes_WorkEvents_SubmissionId",
                        column: x => x.SubmissionId,
                        principalTable: "WorkEvents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_GroundTruth_ImageId",
                table: "GroundTruth",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_GroundTruth_LabelId",
                table: "GroundTruth",
                column: "LabelId");

            migrationBuilder.CreateIndex(
                name: "IX_GroundTruth_ProjectId_ImageId",
                table: "GroundTruth",
                columns: new[] { "ProjectId", "ImageId" });

            migrationBuilder.CreateIndex(
                name: "IX_SubmittedShapes_ProjectId_ImageId",
                table: "SubmittedShapes",
                columns: new[] { "ProjectId", "ImageId" });

            migrationBuilder.CreateIndex(
                name: "IX_SubmittedShapes_SubmissionId",
                table: "SubmittedShapes",
                column: "SubmissionId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "GroundTruth");

            migrationBuilder.DropTable(
                name: "SubmittedShapes");
        }
    }
}
