using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ProposalOutcomes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ProposalOutcomes",
                columns: table => new
                {
                    AnnotationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ProposedLabelId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProposedGeometryHash = table.Column<long>(type: "INTEGER", nullable: false),
                    Score = table.Column<double>(type: "REAL", nullable: true),
                    ProposedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 24, nullable: false),
                    DecidedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProposalOutcomes", x => x.AnnotationId);
                    table.ForeignKey(
                        name: "FK_ProposalOutcomes_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ProposalOutcomes_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProposalOutcomes_ImageId",
                table: "ProposalOutcomes",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_ProposalOutcomes_ProjectId_ModelId_ImageId",
                table: "ProposalOutcomes",
                columns: new[] { "ProjectId", "ModelId", "ImageId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ProposalOutcomes");
        }
    }
}
