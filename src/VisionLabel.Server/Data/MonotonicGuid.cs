using System.Security.Cryptography;

namespace VisionLabel.Server.Data;

/// <summary>
/// Version 7 GUIDs that sort in the order they were made, even within one millisecond (RFC 9562, method 1: a
/// counter in rand_a and the top of rand_b). Guid.CreateVersion7 fills those bits at random, so rows created in
/// the same millisecond sort in random order; an import uses these so the dataset's order of images and
/// annotations survives into an export. Ordering holds for the canonical string form (SQLite) and uuid (PostgreSQL).
/// </summary>
public static class MonotonicGuid
{
    private static readonly Lock Gate = new();
    private static long _lastMs;
    private static long _counter; // 42 bits

    public static Guid Next()
    {
        long ms, counter;
        lock (Gate)
        {
            ms = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _lastMs);
            if (ms != _lastMs) _counter = RandomNumberGenerator.GetInt32(1 << 20); // low start: room to count up
            else if (++_counter >= 1L << 42) { ms++; _counter = 0; }
            _lastMs = ms;
            counter = _counter;
        }
        Span<byte> random = stackalloc byte[4];
        RandomNumberGenerator.Fill(random);
        long tail = BitConverter.ToUInt32(random) & 0xFFFFFFFF; // 32 random bits after the counter
        // 48-bit ms | ver 7 + 12 counter bits | variant 10 + 14 counter bits | 16 counter bits + 32 random bits
        string hex = $"{ms:x12}7{(counter >> 30) & 0xFFF:x3}{0x8000 | ((counter >> 16) & 0x3FFF):x4}{counter & 0xFFFF:x4}{tail:x8}";
        return Guid.ParseExact(hex, "N");
    }
}
