using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LabelHotkeysAttributes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Attributes",
                table: "Labels",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "Hotkey",
                table: "Labels",
                type: "TEXT",
                maxLength: 8,
                nullable: true);

            // Labels made before keys were stored keep the keys the editor gave them by position (1…9, 0), and the next ten get letters.
            migrationBuilder.Sql("""
                WITH ranked AS (SELECT "Id", ROW_NUMBER() OVER (PARTITION BY "ProjectId" ORDER BY "Order", "Name") AS n FROM "Labels")
                UPDATE "Labels" SET "Hotkey" = CASE (SELECT n FROM ranked WHERE ranked."Id" = "Labels"."Id")
                    WHEN 1 THEN '1' WHEN 2 THEN '2' WHEN 3 THEN '3' WHEN 4 THEN '4' WHEN 5 THEN '5' WHEN 6 THEN '6' WHEN 7 THEN '7'
                    WHEN 8 THEN '8' WHEN 9 THEN '9' WHEN 10 THEN '0' WHEN 11 THEN 'q' WHEN 12 THEN 'w' WHEN 13 THEN 't' WHEN 14 THEN 'u'
                    WHEN 15 THEN 'o' WHEN 16 THEN 'd' WHEN 17 THEN 'g' WHEN 18 THEN 'j' WHEN 19 THEN 'n' WHEN 20 THEN 'z' END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Attributes",
                table: "Labels");

            migrationBuilder.DropColumn(
                name: "Hotkey",
                table: "Labels");
        }
    }
}
