using System.IO.MemoryMappedFiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Imaging;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Images;

/// <summary>
/// Takes one uploaded file from a stream: spools it to a temp file while hashing (memory stays flat whatever
/// the size), validates the header, skips content the project already has, stores the blob, records the row.
/// A bad file yields a Rejected outcome with the reason; it never throws for bad input.
/// </summary>
public sealed class ImageIntake(VisionLabelDb db, IBlobStore blobs, IOptions<ImageIntakeOptions> intakeOptions,
    IOptions<VisionLabelOptions> appOptions, Jobs.JobDispatcher dispatcher, IOptions<Jobs.JobOptions> jobOptions, ILogger<ImageIntake> log)
{
    private readonly ImageIntakeOptions _options = intakeOptions.Value;

    /// <param name="externalId">The id a dataset being imported gives the image (kept for export).</param>
    /// <param name="alsoStore">a row to commit together with a new image's (a job records the images it made), so a crash
    /// cannot leave one without the other</param>
    public async Task<UploadedFile> IngestAsync(Guid projectId, string fileName, Stream content, CancellationToken ct, long? externalId = null,
        Func<Image, object>? alsoStore = null)
    {
        Directory.CreateDirectory(appOptions.Value.TempDirectory);
        string temp = Path.Combine(appOptions.Value.TempDirectory, Guid.NewGuid().ToString("N") + ".upload");
        try
        {
            var spooled = await SpoolAsync(content, temp, ct);
            if (spooled.Error is not null) return Rejected(fileName, spooled.Error);

            ImageHeader header;
            await using (var file = File.OpenRead(temp))
            {
                try { header = ImageHeaderReader.Read(file); }
                catch (InvalidImageException e) { return Rejected(fileName, e.Message); }
            }
            if (header.PixelCount > _options.MaxPixels)
                return Rejected(fileName, $"image is {header.StoredWidth}x{header.StoredHeight} ({header.PixelCount / 1e6:0.#} megapixels), " +
                                          $"over the {_options.MaxPixels / 1e6:0.#} megapixel limit (VisionLabel:Images:MaxPixels)");

            var existing = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.ProjectId == projectId && i.ContentHash == spooled.Hash, ct);
            if (existing is not null) return new UploadedFile(fileName, UploadOutcome.Duplicate, ImageDto.From(existing), null);

            // A header can be intact over garbled scan data or a chunk with a bad CRC: decode it all once, now, so a
            // broken file is refused here instead of failing later in a thumbnail or a pre-labeling job.
            // Large images and TIFFs are decoded in strips by libvips (memory stays a few rows); the rest whole, in memory.
            bool large = Pyramids.Needed(header.Format, header.PixelCount, _options);
            if (large && LargeImages.StreamingProblem(header) is { } unstreamable) return Rejected(fileName, unstreamable);
            string? broken;
            if (large)
            {
                await LargeImages.Gate.WaitAsync(ct);
                try { broken = await Task.Run(() => VerifyInStrips(temp, header), ct); }
                finally { LargeImages.Gate.Release(); }
            }
            else broken = VerifyProblem(temp, header.Format);
            if (broken is not null) return Rejected(fileName, broken);

            string key = BlobKeys.Original(spooled.Hash);
            // Reused content is touched, so a sweep's grace period protects it while this row is being written.
            if (await blobs.ExistsAsync(key, ct)) await blobs.TouchAsync(key, ct);
            else await blobs.PutFileAsync(key, temp, ct);

            var now = DateTime.UtcNow;
            var image = new Image
            {
                Id = MonotonicGuid.Next(), // images uploaded or imported together keep their order
                ProjectId = projectId, ContentHash = spooled.Hash, FileName = fileName, Width = header.Width, Height = header.Height,
                Orientation = header.Orientation, Format = header.Format.Name(), SizeBytes = spooled.Length, BlobKey = key,
                Status = ImageStatus.New, ExternalId = externalId, CreatedAt = now, UpdatedAt = now,
            };
            db.Images.Add(image);
            var companion = alsoStore?.Invoke(image);
            if (companion is not null) db.Add(companion);
            // Its pyramid is queued with it (committed together; start-up dispatches a job whose dispatch was cut short).
            var pyramid = large ? PyramidJob.For(image, jobOptions.Value.MaxAttempts) : null;
            var pyramidItem = pyramid is null ? null : new JobItem { JobId = pyramid.Id, ImageId = image.Id };
            if (pyramid is not null)
            {
                db.Jobs.Add(pyramid);
                db.JobItems.Add(pyramidItem!);
            }
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateException)
            {
                // Another request stored the same bytes in this project between our check and our insert.
                foreach (var entry in new object?[] { image, companion, pyramid, pyramidItem }.OfType<object>()) db.Entry(entry).State = EntityState.Detached;
                var winner = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.ProjectId == projectId && i.ContentHash == spooled.Hash, ct);
                if (winner is null) throw;
                return new UploadedFile(fileName, UploadOutcome.Duplicate, ImageDto.From(winner), null);
            }
            // A sweep may have removed the reused blob between our check and our commit (it was unreferenced then): put it back.
            if (File.Exists(temp) && !await blobs.ExistsAsync(key, ct)) await blobs.PutFileAsync(key, temp, ct);
            if (pyramid is not null)
            {
                try { await dispatcher.DispatchAsync(pyramid.Id, CancellationToken.None); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The image is stored; its job row waits with no chunks, and the next start-up dispatches it.
                    log.LogWarning(e, "Pyramid job {JobId} for {File} not dispatched now; the next start-up will", pyramid.Id, fileName);
                }
            }
            log.LogDebug("Stored {File} as {ImageId} ({Width}x{Height} {Format})", fileName, image.Id, image.Width, image.Height, image.Format);
            return new UploadedFile(fileName, UploadOutcome.Created, ImageDto.From(image), null);
        }
        finally { File.Delete(temp); }
    }

    /// <summary>Decodes the spooled file in strips through libvips; null when intact.</summary>
    private static string? VerifyInStrips(string path, ImageHeader header)
    {
        try { LargeImages.Verify(path, header.Format, header.StoredWidth, header.StoredHeight); return null; }
        catch (InvalidImageException e) { return e.Message; }
    }

    /// <summary>Decodes the spooled file through a memory map (no managed copy of a large file); null when intact.</summary>
    private static unsafe string? VerifyProblem(string path, ImageFormat format)
    {
        long length = new FileInfo(path).Length;
        if (length > int.MaxValue) return $"file is {length:N0} bytes; images up to 2 GB can be checked";
        using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            ImageCodec.Verify(new ReadOnlySpan<byte>(pointer + view.PointerOffset, (int)length), format);
            return null;
        }
        catch (InvalidImageException e) { return e.Message; }
        finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
    }

    private async Task<Spooled> SpoolAsync(Stream content, string path, CancellationToken ct)
    {
        var spooled = await UploadSpooler.SpoolAsync(content, path, _options.MaxFileBytes, ct);
        if (spooled.TooLarge) return new("", spooled.Length, $"file is {spooled.Length:N0} bytes, over the {_options.MaxFileBytes:N0} byte limit (VisionLabel:Images:MaxFileBytes)");
        if (spooled.Length == 0) return new("", 0, "the file is empty");
        return new(spooled.Sha256, spooled.Length, null);
    }

    private readonly record struct Spooled(string Hash, long Length, string? Error);

    private static UploadedFile Rejected(string fileName, string reason) => new(fileName, UploadOutcome.Rejected, null, reason);
}
