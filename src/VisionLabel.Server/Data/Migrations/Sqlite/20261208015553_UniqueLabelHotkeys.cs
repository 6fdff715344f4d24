using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UniqueLabelHotkeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Labels_ProjectId_Hotkey",
                table: "Labels",
                columns: new[] { "ProjectId", "Hotkey" },
                unique: true,
                filter: "\"Hotkey\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Labels_ProjectId_Hotkey",
                table: "Labels");
        }
    }
}
