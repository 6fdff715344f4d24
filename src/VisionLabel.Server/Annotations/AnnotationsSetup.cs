using Microsoft.Extensions.DependencyInjection.Extensions;
namespace VisionLabel.Server.Annotations;

/// <summary>The annotations area: the one write path (Writing/), live co-editing (Live/), review and comments (Review/).</summary>
public static class AnnotationsSetup
{
    public static IServiceCollection AddAnnotations(this IServiceCollection services)
    {
        // The write path: every annotation change, whoever makes it (hub, REST, jobs, imports, cascades), goes through
        // AnnotationSequencer; the rest are its parts (see its summary).
        services.AddSingleton<ImageGates>();
        services.AddSingleton<SequencerCaches>();
        services.AddSingleton<ImageUnitOfWork>();
        services.AddSingleton<OpBroadcaster>();
        services.AddSingleton<OpApplier>();
        services.AddSingleton<GroupCommitQueue>();
        services.AddSingleton<AnnotationSequencer>();
        services.AddScoped<AnnotationReads>();
        // Live: who is on an image and where their cursor is.
        services.AddSingleton<PresenceRegistry>();
        services.AddSingleton<PresenceThrottle>();
        services.AddScoped<ReviewService>();
        // The workflow: submit, approve, reject, reopen, leases (the queue itself is Work/).
        services.AddScoped<WorkTransitions>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
