using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

/// <summary>Ids and names that imported datasets carry, kept so an export gives them back unchanged.</summary>
public abstract class DatasetIds : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<int>("ExternalId", "Labels", nullable: true);
        m.AddColumn<string>("Supercategory", "Labels", maxLength: 200, nullable: true);
        m.AddColumn<long>("ExternalId", "Images", nullable: true);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropColumn("ExternalId", "Labels");
        m.DropColumn("Supercategory", "Labels");
        m.DropColumn("ExternalId", "Images");
    }
}
