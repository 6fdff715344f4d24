using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Jobs;
using VisionLabel.Server;

namespace VisionLabel.Server.Web;

/// <summary>
/// The messages of /hubs/annotations and /hubs/live, as schemas in the OpenAPI document's components. The web app's
/// types are generated from that document (web/openapi.json, `npm run gen-api`) and its live code uses them, so a
/// hub message changed here without the app following fails the app's type check; a test fails when a hub method
/// takes or returns a type that is missing here, and when web/openapi.json is out of date.
/// </summary>
public static class HubSchemas
{
    public static readonly Type[] Types =
    [
        // /hubs/annotations: what methods take and return, and the events the server sends.
        typeof(SubmitOp), typeof(OpAck), typeof(AppliedOp), typeof(ImageSnapshot), typeof(ResumeResult), typeof(Presence),
        typeof(PresenceChanged), typeof(Participant), typeof(NewComment), typeof(CommentDto), typeof(ImageStatusChanged), typeof(ImageDeleted),
        typeof(WorkStateDto), typeof(WorkEventDto), typeof(RejectRequest),
        // /hubs/live
        typeof(JobDto), typeof(ImportProgress), typeof(Notifications.NotificationDto), typeof(Quality.QualityScored),
    ];

    public static void Add(OpenApiOptions options) => options.AddDocumentTransformer(async (document, context, ct) =>
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var type in Types)
            if (!document.Components.Schemas.ContainsKey(type.Name))
                document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, ct);
    });
}
