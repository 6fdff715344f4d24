using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VisionLabel.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Replicas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_ContentHash",
                table: "Images");

            migrationBuilder.AddColumn<double>(
                name: "AgreementThreshold",
                table: "Projects",
                type: "double precision",
                nullable: false,
                defaultValue: 0.80000000000000004);

            migrationBuilder.AddColumn<int>(
                name: "HoneypotPercent",
                table: "Projects",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "OnboardingImages",
                table: "Projects",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "Overlap",
                table: "Projects",
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<double>(
                name: "Quorum",
                table: "Projects",
                type: "double precision",
                nullable: false,
                defaultValue: 0.5);

            migrationBuilder.AddColumn<double>(
                name: "Agreement",
                table: "Images",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "NeedsAdjudication",
                table: "Images",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<double>(
                name: "ReplicaF1",
                table: "Images",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReplicaKind",
                table: "Images",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ReplicaOf",
                table: "Images",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReplicaOwner",
                table: "Images",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_ContentHash",
                table: "Images",
                columns: new[] { "ProjectId", "ContentHash" },
                unique: true,
                filter: "\"ReplicaOf\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Images_ReplicaOf_ReplicaOwner",
                table: "Images",
                columns: new[] { "ReplicaOf", "ReplicaOwner" },
                unique: true,
                filter: "\"ReplicaOf\" IS NOT NULL");

            migrationBuilder.AddForeignKey(
                name: "FK_Images_Images_ReplicaOf",
                table: "Images",
                column: "ReplicaOf",
                principalTable: "Images",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Images_Images_ReplicaOf",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_Images_ProjectId_ContentHash",
                table: "Images");

            migrationBuilder.DropIndex(
                name: "IX_Images_ReplicaOf_ReplicaOwner",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "AgreementThreshold",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "HoneypotPercent",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "OnboardingImages",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "Overlap",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "Quorum",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "Agreement",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "NeedsAdjudication",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReplicaF1",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReplicaKind",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReplicaOf",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "ReplicaOwner",
                table: "Images");

            migrationBuilder.CreateIndex(
                name: "IX_Images_ProjectId_ContentHash",
                table: "Images",
                columns: new[] { "ProjectId", "ContentHash" },
                unique: true);
        }
    }
}
