using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PerceptualHash : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "PerceptualHash",
                table: "Images",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PerceptualHash",
                table: "Images");
        }
    }
}
