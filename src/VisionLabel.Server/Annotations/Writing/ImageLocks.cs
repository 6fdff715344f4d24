using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// The cross-process half of an image's gate, on PostgreSQL: a session advisory lock per image, held on the unit of
/// work's connection from before it reads the image's state until after it commits (several server processes, or
/// the CLI importing while the server runs, then take turns on an image in arrival order instead of racing for its
/// next seq). Taking it also reads the image's last seq, in the same round trip, so the caches of this process can be
/// checked against what other processes wrote meanwhile. A process that dies loses its session, and so its locks.
/// On SQLite (one process) this is a no-op; the (image, seq) key still refuses a stale seq there.
/// </summary>
public static class ImageLocks
{
    public static long Key(Guid imageId)
    {
        Span<byte> bytes = stackalloc byte[16];
        imageId.TryWriteBytes(bytes);
        return BitConverter.ToInt64(bytes[..8]) ^ BitConverter.ToInt64(bytes[8..]);
    }

    /// <summary>Locks the image for this connection (opened here, kept open until <see cref="ReleaseAsync"/>); returns its last seq
    /// and status, or null when there is no lock to take.</summary>
    public static async Task<(long LastSeq, ImageStatus? Status)?> AcquireAsync(VisionLabelDb db, Guid imageId, CancellationToken ct)
    {
        if (!db.Database.IsNpgsql()) return null;
        await db.Database.OpenConnectionAsync(ct);
        var connection = db.Database.GetDbConnection();
        await using var batch = connection.CreateBatch();
        batch.BatchCommands.Add(Command(batch, "SELECT pg_advisory_lock(@key)", imageId));
        batch.BatchCommands.Add(Command(batch, "SELECT COALESCE(MAX(\"Seq\"), 0), (SELECT \"Status\" FROM \"Images\" WHERE \"Id\" = @image) FROM \"AnnotationOps\" WHERE \"ImageId\" = @image", imageId));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        ImageStatus? status = reader.IsDBNull(1) ? null : Enum.Parse<ImageStatus>(reader.GetString(1));
        return (reader.GetInt64(0), status);
    }

    public static async Task ReleaseAsync(VisionLabelDb db, Guid imageId)
    {
        if (!db.Database.IsNpgsql()) return;
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "SELECT pg_advisory_unlock(@key)";
            var key = command.CreateParameter();
            key.ParameterName = "key";
            key.Value = Key(imageId);
            command.Parameters.Add(key);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    private static DbBatchCommand Command(DbBatch batch, string sql, Guid imageId)
    {
        var command = batch.CreateBatchCommand();
        command.CommandText = sql;
        var key = command.CreateParameter();
        key.ParameterName = "key";
        key.Value = Key(imageId);
        command.Parameters.Add(key);
        var image = command.CreateParameter();
        image.ParameterName = "image";
        image.Value = imageId;
        command.Parameters.Add(image);
        return command;
    }
}
