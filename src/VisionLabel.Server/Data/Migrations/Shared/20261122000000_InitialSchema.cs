using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

// Migrations are written by hand (the EF design-time package cannot be restored here) and leave store types
// to the provider, so this one set creates the same schema on SQLite and PostgreSQL. MigrationSchemaTests
// checks that a migrated database matches the model on both.
public abstract class InitialSchema : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable("Projects", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            Name = t.Column<string>(maxLength: 200, nullable: false),
            Description = t.Column<string>(nullable: true),
            CreatedAt = t.Column<DateTime>(nullable: false),
            UpdatedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t => t.PrimaryKey("PK_Projects", x => x.Id));
        m.CreateIndex("IX_Projects_Name", "Projects", "Name", unique: true);

        m.CreateTable("Labels", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            ProjectId = t.Column<Guid>(nullable: false),
            Name = t.Column<string>(maxLength: 200, nullable: false),
            Color = t.Column<string>(maxLength: 7, nullable: false),
            Order = t.Column<int>(nullable: false),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_Labels", x => x.Id);
            t.ForeignKey("FK_Labels_Projects_ProjectId", x => x.ProjectId, "Projects", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_Labels_ProjectId_Name", "Labels", ["ProjectId", "Name"], unique: true);

        m.CreateTable("Images", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            ProjectId = t.Column<Guid>(nullable: false),
            ContentHash = t.Column<string>(maxLength: 64, nullable: false),
            FileName = t.Column<string>(nullable: false),
            Width = t.Column<int>(nullable: false),
            Height = t.Column<int>(nullable: false),
            Orientation = t.Column<int>(nullable: false),
            Format = t.Column<string>(maxLength: 8, nullable: false),
            SizeBytes = t.Column<long>(nullable: false),
            BlobKey = t.Column<string>(nullable: false),
            Status = t.Column<string>(maxLength: 16, nullable: false),
            CreatedAt = t.Column<DateTime>(nullable: false),
            UpdatedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_Images", x => x.Id);
            t.ForeignKey("FK_Images_Projects_ProjectId", x => x.ProjectId, "Projects", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_Images_ProjectId_ContentHash", "Images", ["ProjectId", "ContentHash"], unique: true);
        m.CreateIndex("IX_Images_ProjectId_Status", "Images", ["ProjectId", "Status"]);

        m.CreateTable("Annotations", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            ImageId = t.Column<Guid>(nullable: false),
            LabelId = t.Column<Guid>(nullable: false),
            Kind = t.Column<string>(maxLength: 16, nullable: false),
            Geometry = t.Column<string>(nullable: false),
            Attributes = t.Column<string>(nullable: false),
            Source = t.Column<string>(maxLength: 16, nullable: false),
            ModelId = t.Column<string>(nullable: true),
            Score = t.Column<double>(nullable: true),
            State = t.Column<string>(maxLength: 16, nullable: false),
            Version = t.Column<int>(nullable: false),
            CreatedBy = t.Column<string>(nullable: false),
            CreatedAt = t.Column<DateTime>(nullable: false),
            UpdatedBy = t.Column<string>(nullable: false),
            UpdatedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_Annotations", x => x.Id);
            t.ForeignKey("FK_Annotations_Images_ImageId", x => x.ImageId, "Images", "Id", onDelete: ReferentialAction.Cascade);
            t.ForeignKey("FK_Annotations_Labels_LabelId", x => x.LabelId, "Labels", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_Annotations_ImageId", "Annotations", "ImageId");
        m.CreateIndex("IX_Annotations_LabelId", "Annotations", "LabelId");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("Annotations");
        m.DropTable("Images");
        m.DropTable("Labels");
        m.DropTable("Projects");
    }
}
