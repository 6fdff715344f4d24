using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

public abstract class ReviewAndUndo : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<string>("Inverse", "AnnotationOps", nullable: true);
        m.AddColumn<long>("UndoOf", "AnnotationOps", nullable: true);
        m.AddColumn<long>("RedoOf", "AnnotationOps", nullable: true);

        m.CreateTable("Comments", t => new
        {
            Id = t.Column<Guid>(nullable: false),
            ImageId = t.Column<Guid>(nullable: false),
            X = t.Column<double>(nullable: false),
            Y = t.Column<double>(nullable: false),
            Text = t.Column<string>(nullable: false),
            Author = t.Column<string>(maxLength: 200, nullable: false),
            Resolved = t.Column<bool>(nullable: false),
            CreatedAt = t.Column<DateTime>(nullable: false),
            UpdatedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_Comments", x => x.Id);
            t.ForeignKey("FK_Comments_Images_ImageId", x => x.ImageId, "Images", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_Comments_ImageId", "Comments", "ImageId");
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropTable("Comments");
        m.DropColumn("Inverse", "AnnotationOps");
        m.DropColumn("UndoOf", "AnnotationOps");
        m.DropColumn("RedoOf", "AnnotationOps");
    }
}
