using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// At most one presence broadcast per connection per interval (cursors move far faster than anyone needs), and the
/// latest state of a burst always goes out: an update that arrives inside the window is held and sent when the
/// window ends (trailing edge), replacing any held one, so a cursor never stays where an earlier update put it.
/// </summary>
public sealed class PresenceThrottle(IHubContext<AnnotationsHub> hub, ILogger<PresenceThrottle> log)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private sealed class Slot
    {
        public readonly Lock Lock = new();
        public long LastSentAt = long.MinValue / 2;
        public PresenceChanged? Held;
        public bool FlushScheduled;
    }

    private readonly ConcurrentDictionary<string, Slot> _slots = new();

    public Task PublishAsync(string connectionId, PresenceChanged change)
    {
        var slot = _slots.GetOrAdd(connectionId, _ => new Slot());
        long now = Environment.TickCount64;
        lock (slot.Lock)
        {
            long since = now - slot.LastSentAt;
            if (!slot.FlushScheduled && since >= Interval.TotalMilliseconds)
            {
                slot.LastSentAt = now;
                return SendAsync(connectionId, change);
            }
            slot.Held = change;
            if (slot.FlushScheduled) return Task.CompletedTask;
            slot.FlushScheduled = true;
            _ = FlushLaterAsync(connectionId, slot, TimeSpan.FromMilliseconds(Math.Max(1, Interval.TotalMilliseconds - since)));
            return Task.CompletedTask;
        }
    }

    public void Forget(string connectionId) => _slots.TryRemove(connectionId, out _);

    private async Task FlushLaterAsync(string connectionId, Slot slot, TimeSpan delay)
    {
        await Task.Delay(delay);
        PresenceChanged? held;
        lock (slot.Lock)
        {
            held = slot.Held;
            slot.Held = null;
            slot.FlushScheduled = false;
            slot.LastSentAt = Environment.TickCount64;
        }
        if (held is null || !_slots.ContainsKey(connectionId)) return; // gone in the meantime
        try { await SendAsync(connectionId, held); }
        catch (Exception e) { log.LogWarning(e, "Could not send held presence for {Connection}", connectionId); }
    }

    private Task SendAsync(string connectionId, PresenceChanged change) =>
        hub.Clients.GroupExcept(OpBroadcaster.ImageGroup(change.ImageId), connectionId).SendAsync("PresenceChanged", change);
}
