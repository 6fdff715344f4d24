using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Guidelines : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "GuidelineVersion",
                table: "WorkEvents",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GuidelineVersion",
                table: "Annotations",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GuidelineVersion",
                table: "AnnotationOps",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "GuidelineAcknowledgements",
                columns: table => new
                {
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Major = table.Column<int>(type: "INTEGER", nullable: false),
                    AcknowledgedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GuidelineAcknowledgements", x => new { x.ProjectId, x.UserName, x.Major });
                    table.ForeignKey(
                        name: "FK_GuidelineAcknowledgements_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Guidelines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Major = table.Column<int>(type: "INTEGER", nullable: false),
                    Minor = table.Column<int>(type: "INTEGER", nullable: false),
                    Markdown = table.Column<string>(type: "TEXT", nullable: false),
                    Changelog = table.Column<string>(type: "TEXT", nullable: false),
                    PublishedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    PublishedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Guidelines", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Guidelines_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "GuidelineCards",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    GuidelineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: false),
                    Positive = table.Column<string>(type: "TEXT", nullable: false),
                    Negative = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GuidelineCards", x => x.Id);
                    table.ForeignKey(
                        name: "FK_GuidelineCards_Guidelines_GuidelineId",
                        column: x => x.GuidelineId,
                        principalTable: "Guidelines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_GuidelineCards_Labels_LabelId",
                        column: x => x.LabelId,
                        principalTable: "Labels",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_GuidelineCards_GuidelineId",
                table: "GuidelineCards",
                column: "GuidelineId");

            migrationBuilder.CreateIndex(
                name: "IX_GuidelineCards_LabelId",
                table: "GuidelineCards",
                column: "LabelId");

            migrationBuilder.CreateIndex(
                name: "IX_Guidelines_ProjectId_Major_Minor",
                table: "Guidelines",
                columns: new[] { "ProjectId", "Major", "Minor" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "GuidelineAcknowledgements");

            migrationBuilder.DropTable(
                name: "GuidelineCards");

            migrationBuilder.DropTable(
                name: "Guidelines");

            migrationBuilder.DropColumn(
                name: "GuidelineVersion",
                table: "WorkEvents");

            migrationBuilder.DropColumn(
                name: "GuidelineVersion",
                table: "Annotations");

            migrationBuilder.DropColumn(
                name: "GuidelineVersion",
                table: "AnnotationOps");
        }
    }
}
