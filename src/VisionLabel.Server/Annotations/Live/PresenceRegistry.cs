namespace VisionLabel.Server.Annotations;

/// <summary>Who is on which image (per connection), each with a stable colour.</summary>
public sealed class PresenceRegistry
{
    private static readonly string[] Colors = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324", "#469990", "#800000"];
    // Under one lock (joins and leaves are rare next to ops): an image nobody is on has no entry, so a server whose
    // people have opened millions of images over its life keeps only the ones open now.
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Dictionary<string, Participant>> _images = new();

    public Participant Join(Guid imageId, string connectionId, string user)
    {
        var participant = new Participant(connectionId, user, user, Colors[(int)((uint)StableHash(user) % Colors.Length)]);
        lock (_lock)
        {
            if (!_images.TryGetValue(imageId, out var people)) _images[imageId] = people = new Dictionary<string, Participant>();
            people[connectionId] = participant;
        }
        return participant;
    }

    public Participant? Leave(Guid imageId, string connectionId)
    {
        lock (_lock) return Remove(imageId, connectionId);
    }

    /// <summary>Removes a closed connection from every image; returns the images it was on.</summary>
    public List<(Guid ImageId, Participant Participant)> Disconnect(string connectionId)
    {
        var left = new List<(Guid, Participant)>();
        lock (_lock)
            foreach (var imageId in _images.Where(i => i.Value.ContainsKey(connectionId)).Select(i => i.Key).ToList())
                if (Remove(imageId, connectionId) is { } p) left.Add((imageId, p));
        return left;
    }

    public IReadOnlyList<Participant> Participants(Guid imageId)
    {
        lock (_lock) return _images.TryGetValue(imageId, out var people) ? people.Values.OrderBy(p => p.Name).ToList() : [];
    }

    public Participant? Find(Guid imageId, string connectionId)
    {
        lock (_lock) return _images.TryGetValue(imageId, out var people) && people.TryGetValue(connectionId, out var p) ? p : null;
    }

    /// <summary>Images with someone on them (an image nobody is on keeps no entry).</summary>
    public int Count { get { lock (_lock) return _images.Count; } }

    private Participant? Remove(Guid imageId, string connectionId)
    {
        if (!_images.TryGetValue(imageId, out var people) || !people.Remove(connectionId, out var p)) return null;
        if (people.Count == 0) _images.Remove(imageId);
        return p;
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            int h = 23;
            foreach (char c in s) h = h * 31 + c;
            return h;
        }
    }
}
