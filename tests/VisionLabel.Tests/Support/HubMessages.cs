using System.Collections.Concurrent;
using System.Text.Json;

namespace VisionLabel.Tests.Support;

/// <summary>Every server invocation a hub connection received, in order, and waiting for one (an event, not a poll).</summary>
public sealed class HubMessages
{
    private readonly Lock _lock = new();
    private readonly List<(string Target, Func<JsonElement[], bool>? Match, TaskCompletionSource<JsonElement[]> Done)> _waiters = [];

    public ConcurrentQueue<(string Target, JsonElement[] Arguments)> Received { get; } = new();

    /// <summary>
    /// Completes when a message for <paramref name="target"/> satisfying <paramref name="match"/> has arrived (one
    /// that arrived before the call counts).
    /// </summary>
    public async Task<JsonElement[]> WaitFor(string target, TimeSpan timeout, Func<JsonElement[], bool>? match = null)
    {
        var done = new TaskCompletionSource<JsonElement[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            foreach (var (t, a) in Received)
                if (t == target && (match is null || match(a))) return a;
            _waiters.Add((target, match, done));
        }
        try { return await done.Task.WaitAsync(timeout); }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no '{target}' message within {timeout}; received: {string.Join(", ", Received.Select(r => r.Target))}");
        }
        finally { lock (_lock) _waiters.RemoveAll(w => w.Done == done); }
    }

    public void Arrived(string target, JsonElement[] args)
    {
        lock (_lock)
        {
            Received.Enqueue((target, args));
            foreach (var w in _waiters.Where(w => w.Target == target && (w.Match is null || w.Match(args))).ToList())
            {
                w.Done.TrySetResult(args);
                _waiters.Remove(w);
            }
        }
    }
}
