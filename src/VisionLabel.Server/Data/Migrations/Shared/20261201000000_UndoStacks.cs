using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

/// <summary>Undo/redo stacks linked through the op log. Ops from before this have no links: their undo history starts afresh.</summary>
public abstract class UndoStacks : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.AddColumn<long>("UndoTop", "AnnotationOps", nullable: true);
        m.AddColumn<long>("RedoTop", "AnnotationOps", nullable: true);
        m.AddColumn<long>("Below", "AnnotationOps", nullable: true);
        m.CreateIndex("IX_AnnotationOps_ImageId_AuthorId_Seq", "AnnotationOps", ["ImageId", "AuthorId", "Seq"]);
    }

    protected override void Down(MigrationBuilder m)
    {
        m.DropIndex("IX_AnnotationOps_ImageId_AuthorId_Seq", "AnnotationOps");
        m.DropColumn("UndoTop", "AnnotationOps");
        m.DropColumn("RedoTop", "AnnotationOps");
        m.DropColumn("Below", "AnnotationOps");
    }
}
