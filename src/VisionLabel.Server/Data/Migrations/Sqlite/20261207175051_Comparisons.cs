using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Comparisons : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // An image's confidence was the mean score of its proposals; it is now their smallest score margin. The two do not
            // compare, so earlier figures are dropped (those images sort as not pre-labelled until pre-labelling runs again).
            migrationBuilder.Sql("UPDATE \"Images\" SET \"Confidence\" = NULL WHERE \"Confidence\" IS NOT NULL;");

            migrationBuilder.CreateTable(
                name: "Comparisons",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Sampling = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SampleSize = table.Column<int>(type: "INTEGER", nullable: false),
                    Confidence = table.Column<float>(type: "REAL", nullable: false),
                    Seed = table.Column<int>(type: "INTEGER", nullable: false),
                    Secret = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    JobId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PairedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Comparisons", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Comparisons_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ComparisonImages",
                columns: table => new
                {
                    ComparisonId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Disagreement = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ComparisonImages", x => new { x.ComparisonId, x.ImageId });
                    table.ForeignKey(
                        name: "FK_ComparisonImages_Comparisons_ComparisonId",
                        column: x => x.ComparisonId,
                        principalTable: "Comparisons",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ComparisonImages_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ComparisonModels",
                columns: table => new
                {
                    ComparisonId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    TruthImages = table.Column<int>(type: "INTEGER", nullable: false),
                    Tp = table.Column<long>(type: "INTEGER", nullable: false),
                    Fp = table.Column<long>(type: "INTEGER", nullable: false),
                    Fn = table.Column<long>(type: "INTEGER", nullable: false),
                    IouSum = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ComparisonModels", x => new { x.ComparisonId, x.ModelId });
                    table.ForeignKey(
                        name: "FK_ComparisonModels_Comparisons_ComparisonId",
                        column: x => x.ComparisonId,
                        principalTable: "Comparisons",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ComparisonOutputs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ComparisonId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelId = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Label = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Geometry = table.Column<string>(type: "TEXT", nullable: false),
                    Score = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ComparisonOutputs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ComparisonOutputs_Comparisons_ComparisonId",
                        column: x => x.ComparisonId,
                        principalTable: "Comparisons",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ComparisonOutputs_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ComparisonPairs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ComparisonId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    First = table.Column<Guid>(type: "TEXT", nullable: false),
                    Second = table.Column<Guid>(type: "TEXT", nullable: false),
                    Order = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ComparisonPairs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ComparisonPairs_Comparisons_ComparisonId",
                        column: x => x.ComparisonId,
                        principalTable: "Comparisons",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ComparisonPairs_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Judgements",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ComparisonId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PairId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelA = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelB = table.Column<Guid>(type: "TEXT", nullable: false),
                    Choice = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Reasons = table.Column<int>(type: "INTEGER", nullable: false),
                    Judge = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    GuidelineVersion = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Judgements", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Judgements_ComparisonPairs_PairId",
                        column: x => x.PairId,
                        principalTable: "ComparisonPairs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Judgements_Comparisons_ComparisonId",
                        column: x => x.ComparisonId,
                        principalTable: "Comparisons",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ComparisonImages_ImageId",
                table: "ComparisonImages",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_ComparisonOutputs_ComparisonId_ImageId_ModelId",
                table: "ComparisonOutputs",
                columns: new[] { "ComparisonId", "ImageId", "ModelId" });

            migrationBuilder.CreateIndex(
                name: "IX_ComparisonOutputs_ImageId",
                table: "ComparisonOutputs",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_ComparisonPairs_ComparisonId_Order",
                table: "ComparisonPairs",
                columns: new[] { "ComparisonId", "Order" });

            migrationBuilder.CreateIndex(
                name: "IX_ComparisonPairs_ImageId",
                table: "ComparisonPairs",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_Comparisons_ProjectId",
                table: "Comparisons",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_Judgements_ComparisonId_At",
                table: "Judgements",
                columns: new[] { "ComparisonId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_Judgements_PairId_Judge",
                table: "Judgements",
                columns: new[] { "PairId", "Judge" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ComparisonImages");

            migrationBuilder.DropTable(
                name: "ComparisonModels");

            migrationBuilder.DropTable(
                name: "ComparisonOutputs");

            migrationBuilder.DropTable(
                name: "Judgements");

            migrationBuilder.DropTable(
                name: "ComparisonPairs");

            migrationBuilder.DropTable(
                name: "Comparisons");
        }
    }
}
