using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VisionLabel.Server.Data.Migrations.Postgres;

// The hand-written migrations from before the model snapshot, shared by both providers (their operations name no
// provider types). Same ids as before, so databases made by earlier versions upgrade in place. Migrations added
// from here on are generated: dotnet ef migrations add NAME --context PostgresVisionLabelDb --output-dir Data/Migrations/Postgres

[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261122000000_InitialSchema")] public sealed class InitialSchema : Shared.InitialSchema;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261122010000_ModelRegistry")] public sealed class ModelRegistry : Shared.ModelRegistry;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261122020000_Jobs")] public sealed class Jobs : Shared.Jobs;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261122030000_AnnotationOps")] public sealed class AnnotationOps : Shared.AnnotationOps;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261122040000_ReviewAndUndo")] public sealed class ReviewAndUndo : Shared.ReviewAndUndo;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261122050000_DatasetIds")] public sealed class DatasetIds : Shared.DatasetIds;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261201000000_UndoStacks")] public sealed class UndoStacks : Shared.UndoStacks;
[DbContext(typeof(PostgresVisionLabelDb)), Migration("20261201100000_HangfireJobs")] public sealed class HangfireJobs : Shared.HangfireJobs;
