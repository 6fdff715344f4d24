using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

public abstract class ModelRegistry : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable("Models", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            Name = t.Column<string>(maxLength: 200, nullable: false),
            FileName = t.Column<string>(nullable: false),
            ContentHash = t.Column<string>(maxLength: 64, nullable: false),
            SizeBytes = t.Column<long>(nullable: false),
            BlobKey = t.Column<string>(nullable: false),
            Family = t.Column<string>(maxLength: 16, nullable: false),
            Task = t.Column<string>(maxLength: 16, nullable: false),
            InputWidth = t.Column<int>(nullable: false),
            InputHeight = t.Column<int>(nullable: false),
            FixedBatch = t.Column<int>(nullable: true),
            ClassNames = t.Column<string>(nullable: false),
            ClassNamesSource = t.Column<string>(nullable: false),
            CreatedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t => t.PrimaryKey("PK_Models", x => x.Id));
        m.CreateIndex("IX_Models_ContentHash", "Models", "ContentHash", unique: true);

        m.CreateTable("ProjectModelMappings", t => new
        {
            ProjectId = t.Column<Guid>(nullable: false),
            ModelId = t.Column<Guid>(nullable: false),
            Mapping = t.Column<string>(nullable: false),
            UpdatedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_ProjectModelMappings", x => new { x.ProjectId, x.ModelId });
            t.ForeignKey("FK_ProjectModelMappings_Models_ModelId", x => x.ModelId, "Models", "Id", onDelete: ReferentialAction.Cascade);
            t.ForeignKey("FK_ProjectModelMappings_Projects_ProjectId", x => x.ProjectId, "Projects", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_ProjectModelMappings_ModelId", "ProjectModelMappings", "ModelId");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("ProjectModelMappings");
        m.DropTable("Models");
    }
}
