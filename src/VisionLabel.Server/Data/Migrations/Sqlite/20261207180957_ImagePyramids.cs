using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ImagePyramids : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Pyramid",
                table: "Images",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Pyramid",
                table: "Images");
        }
    }
}
