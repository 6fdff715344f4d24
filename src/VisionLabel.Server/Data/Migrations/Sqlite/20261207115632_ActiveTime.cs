using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ActiveTime : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ActiveTimeCutoffSeconds",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: 60);

            migrationBuilder.CreateTable(
                name: "ActiveTimes",
                columns: table => new
                {
                    UserName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Seconds = table.Column<double>(type: "REAL", nullable: false),
                    Spans = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ActiveTimes", x => new { x.UserName, x.ImageId, x.Day });
                    table.ForeignKey(
                        name: "FK_ActiveTimes_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ActivityCursors",
                columns: table => new
                {
                    UserName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    LastAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Hidden = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ActivityCursors", x => new { x.UserName, x.ImageId });
                    table.ForeignKey(
                        name: "FK_ActivityCursors_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ActiveTimes_ProjectId_Day",
                table: "ActiveTimes",
                columns: new[] { "ProjectId", "Day" });

            migrationBuilder.CreateIndex(
                name: "IX_ActivityCursors_ProjectId",
                table: "ActivityCursors",
                column: "ProjectId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ActiveTimes");

            migrationBuilder.DropTable(
                name: "ActivityCursors");

            migrationBuilder.DropColumn(
                name: "ActiveTimeCutoffSeconds",
                table: "Projects");
        }
    }
}
