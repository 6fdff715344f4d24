using System.Collections.Concurrent;

namespace VisionLabel.Server.Collaboration;

/// <summary>Who is on which image (per connection), each with a stable colour.</summary>
public sealed class PresenceRegistry
{
    private static readonly string[] Colors = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324", "#469990", "#800000"];
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, Participant>> _images = new();

    public Participant Join(Guid imageId, string connectionId, string user)
    {
        var participant = new Participant(connectionId, user, user, Colors[(int)((uint)StableHash(user) % Colors.Length)]);
        _images.GetOrAdd(imageId, _ => new())[connectionId] = participant;
        return participant;
    }

    public Participant? Leave(Guid imageId, string connectionId) =>
        _images.TryGetValue(imageId, out var people) && people.TryRemove(connectionId, out var p) ? p : null;

    /// <summary>Removes a closed connection from every image; returns the images it was on.</summary>
    public List<(Guid ImageId, Participant Participant)> Disconnect(string connectionId)
    {
        var left = new List<(Guid, Participant)>();
        foreach (var (imageId, people) in _images)
            if (people.TryRemove(connectionId, out var p)) left.Add((imageId, p));
        return left;
    }

    public IReadOnlyList<Participant> Participants(Guid imageId) =>
        _images.TryGetValue(imageId, out var people) ? people.Values.OrderBy(p => p.Name).ToList() : [];

    public IReadOnlyList<Guid> ImagesWithParticipants() => _images.Where(i => !i.Value.IsEmpty).Select(i => i.Key).ToList();

    public Participant? Find(Guid imageId, string connectionId) =>
        _images.TryGetValue(imageId, out var people) && people.TryGetValue(connectionId, out var p) ? p : null;

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
