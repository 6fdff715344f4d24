using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// What the write path remembers per image between pieces of work, so the common op costs no extra reads: the last
/// seq this process wrote, what ops need of the image (<see cref="ImageInfo"/>), and each author's undo/redo tops.
/// Touched only under the image's gate. Any entry may be dropped at any time (it is re-read on a miss), and is
/// dropped on any failure and whenever another process wrote the image (<see cref="CheckLastSeq"/>). Everything is
/// dropped when <see cref="CachedImages"/> images are held, so a server that wrote millions of images (a long
/// pre-labeling run) does not keep them all.
/// </summary>
public sealed class SequencerCaches
{
    private const int CachedImages = 100_000;
    private long _imagesRead;
    private readonly ConcurrentDictionary<Guid, long> _lastSeq = new();
    private readonly ConcurrentDictionary<Guid, ImageInfo> _images = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, UndoState>> _undo = new();

    /// <summary>An image's status was set directly (a workflow transition), so the next person's edit re-checks it.</summary>
    public void StatusChanged(Guid imageId, ImageStatus status)
    {
        if (_images.TryGetValue(imageId, out var info)) { info.StatusSettled = false; info.Status = status; }
    }

    /// <summary>Under the image's cross-process lock: its status as the database has it now (another process may have moved it).</summary>
    public void CheckStatus(Guid imageId, ImageStatus? statusUnderLock)
    {
        if (statusUnderLock is { } status && _images.TryGetValue(imageId, out var info) && info.Status != status) { info.Status = status; info.StatusSettled = false; }
    }

    public void Forget(Guid imageId)
    {
        _lastSeq.TryRemove(imageId, out _);
        _images.TryRemove(imageId, out _);
        _undo.TryRemove(imageId, out _);
    }

    /// <summary>Under the image's cross-process lock: a last seq other than the one this process wrote means another
    /// process wrote meanwhile, so what is cached of the image is stale.</summary>
    public void CheckLastSeq(Guid imageId, long? lastSeqUnderLock)
    {
        if (lastSeqUnderLock is not { } last || (_lastSeq.TryGetValue(imageId, out var cached) && cached == last)) return;
        Forget(imageId);
        _lastSeq[imageId] = last;
    }

    /// <summary>After a commit: the image's new last seq and the author's undo/redo tops.</summary>
    internal void Stored(Guid imageId, long lastSeq, string author, UndoState undo)
    {
        _lastSeq[imageId] = lastSeq;
        _undo.GetOrAdd(imageId, _ => new ConcurrentDictionary<string, UndoState>())[author] = undo;
    }

    internal async Task<ImageInfo?> ImageAsync(VisionLabelDb db, Guid imageId)
    {
        if (_images.TryGetValue(imageId, out var image)) return image;
        var row = await db.Images.IgnoreQueryFilters().AsNoTracking().Where(i => i.Id == imageId).Select(i => new { i.ProjectId, i.Width, i.Height, i.Status }).FirstOrDefaultAsync();
        if (row is null) return null;
        // Counting a ConcurrentDictionary takes all its locks: look every 1,024 new images, not at each.
        if (Interlocked.Increment(ref _imagesRead) % 1024 == 0 && (_images.Count >= CachedImages || _lastSeq.Count >= CachedImages))
        {
            _images.Clear();
            _lastSeq.Clear();
            _undo.Clear();
        }
        return _images[imageId] = new ImageInfo(imageId, row.ProjectId, row.Width, row.Height) { Status = row.Status };
    }

    public async Task<long> LastSeqAsync(VisionLabelDb db, Guid imageId) =>
        _lastSeq.TryGetValue(imageId, out var last) ? last : await AnnotationReads.CurrentSeqAsync(db, imageId);

    internal async Task<UndoState> UndoStateAsync(VisionLabelDb db, Guid imageId, string author) =>
        _undo.TryGetValue(imageId, out var authors) && authors.TryGetValue(author, out var state) ? state : await UndoStacks.ReadAsync(db, imageId, author);
}
