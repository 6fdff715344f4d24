using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Shared;

public abstract class AnnotationOps : Migration
{
    protected override void Up(MigrationBuilder m)
    {
        m.CreateTable("AnnotationOps", t => new
        {
            ImageId = t.Column<Guid>(nullable: false),
            Seq = t.Column<long>(nullable: false),
            ClientOpId = t.Column<string>(maxLength: 100, nullable: false),
            AuthorId = t.Column<string>(maxLength: 200, nullable: false),
            Type = t.Column<string>(maxLength: 16, nullable: false),
            AnnotationId = t.Column<Guid>(nullable: false),
            Changes = t.Column<string>(nullable: false),
            AppliedAt = t.Column<DateTime>(nullable: false),
        }, constraints: t =>
        {
            t.PrimaryKey("PK_AnnotationOps", x => new { x.ImageId, x.Seq });
            t.ForeignKey("FK_AnnotationOps_Images_ImageId", x => x.ImageId, "Images", "Id", onDelete: ReferentialAction.Cascade);
        });
        m.CreateIndex("IX_AnnotationOps_ImageId_AuthorId_ClientOpId", "AnnotationOps", ["ImageId", "AuthorId", "ClientOpId"], unique: true);
    }

    protected override void Down(MigrationBuilder m) => m.DropTable("AnnotationOps");
}
