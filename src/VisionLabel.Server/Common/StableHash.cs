namespace VisionLabel.Server.Common;

/// <summary>A 63-bit number from a seed and an id, the same on every process and run (SplitMix64 of their mix): the queue's
/// random order (WorkQueue.ShuffleKey) and the export's train/val split (Datasets.ExportSplit).</summary>
public static class StableHash
{
    public static long Of(int seed, Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        ulong z = BitConverter.ToUInt64(bytes[..8]) ^ BitConverter.ToUInt64(bytes[8..]) ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return (long)((z ^ (z >> 31)) >> 1);
    }
}
