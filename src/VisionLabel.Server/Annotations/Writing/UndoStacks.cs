using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>The tops of one user's undo and redo stacks on one image, as op seqs (null: empty).</summary>
internal readonly record struct UndoState(long? UndoTop, long? RedoTop);

/// <summary>What an op is to its author's history: a new change, an undo of op Target, or a redo of undo Target.</summary>
internal readonly record struct OpRole(OpRoleKind Kind, AnnotationOp? Target = null)
{
    public static readonly OpRole Change = new(OpRoleKind.Change);
}

internal enum OpRoleKind { Change, Undo, Redo }

/// <summary>
/// Per-user undo and redo as linked stacks stored in the op log itself: each op keeps the stacks' tops after it
/// (UndoTop, RedoTop) and, for the op it pushed, the element below it (Below). A new change pushes onto undo and
/// clears redo; an undo pops its target and pushes itself onto redo; a redo pops that undo and pushes itself onto
/// undo. So an undo reads two rows (the user's latest op, and its target), however long the history.
/// </summary>
internal static class UndoStacks
{
    public static async Task<UndoState> ReadAsync(VisionLabelDb db, Guid imageId, string author)
    {
        var latest = await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.AuthorId == author)
            .OrderByDescending(o => o.Seq).Select(o => new { o.UndoTop, o.RedoTop }).FirstOrDefaultAsync();
        return latest is null ? default : new UndoState(latest.UndoTop, latest.RedoTop);
    }

    /// <summary>Records op <paramref name="record"/> on the stacks: sets its Below, UndoTop and RedoTop; returns the new state.</summary>
    public static UndoState Push(UndoState state, AnnotationOp record, OpRole role)
    {
        UndoState after;
        switch (role.Kind)
        {
            case OpRoleKind.Undo:
                record.Below = state.RedoTop;
                after = new UndoState(role.Target!.Below, record.Seq);
                break;
            case OpRoleKind.Redo:
                record.Below = state.UndoTop;
                after = new UndoState(record.Seq, role.Target!.Below);
                break;
            default:
                record.Below = state.UndoTop;
                after = new UndoState(record.Seq, null);
                break;
        }
        record.UndoTop = after.UndoTop;
        record.RedoTop = after.RedoTop;
        return after;
    }
}
