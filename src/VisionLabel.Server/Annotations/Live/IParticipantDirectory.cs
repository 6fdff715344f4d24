namespace VisionLabel.Server.Annotations;

/// <summary>
/// Who is on an image, across every server process: the participant list a snapshot carries. Joins and leaves are
/// also broadcast to the image's group (ParticipantJoined/Left), which the SignalR backplane carries everywhere.
/// </summary>
public interface IParticipantDirectory
{
    Task JoinedAsync(Guid imageId, Participant participant);
    Task LeftAsync(Guid imageId, string connectionId);
    Task<IReadOnlyList<Participant>> ListAsync(Guid imageId);
}

/// <summary>One process: the in-memory presence registry is the whole truth.</summary>
public sealed class LocalParticipants(PresenceRegistry presence) : IParticipantDirectory
{
    public Task JoinedAsync(Guid imageId, Participant participant) => Task.CompletedTask;
    public Task LeftAsync(Guid imageId, string connectionId) => Task.CompletedTask;
    public Task<IReadOnlyList<Participant>> ListAsync(Guid imageId) => Task.FromResult(presence.Participants(imageId));
}
