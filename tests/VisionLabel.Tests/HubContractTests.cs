using System.Reflection;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Web;

namespace VisionLabel.Tests;

/// <summary>
/// The hubs' message types reach the web app through the OpenAPI document (HubSchemas), like the REST types: a hub
/// method that takes or returns a type missing there would leave the app's live code untyped, and the committed
/// web/openapi.json must hold them (ProjectsApiTests checks it is current).
/// </summary>
[Trait("Tier", Tiers.Unit)]
public class HubContractTests
{
    [Fact]
    public void Every_type_a_hub_method_takes_or_returns_is_in_the_schemas()
    {
        var missing = new List<string>();
        foreach (var hub in new[] { typeof(AnnotationsHub), typeof(LiveHub) })
            foreach (var method in hub.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == hub))
                foreach (var type in method.GetParameters().Select(p => p.ParameterType).Append(method.ReturnType).Select(Unwrap))
                    if (type is not null && !HubSchemas.Types.Contains(type)) missing.Add($"{hub.Name}.{method.Name}: {type.Name}");
        Assert.True(missing.Count == 0, "add to HubSchemas.Types: " + string.Join("; ", missing));
    }

    [Fact]
    public void The_committed_document_has_every_hub_message()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "web", "openapi.json")));
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        foreach (var type in HubSchemas.Types)
            Assert.True(schemas.TryGetProperty(type.Name, out _), $"web/openapi.json has no schema {type.Name}");
        // The op's type is an enum on the wire: its names are documented, not a free string.
        var opType = schemas.GetProperty("SubmitOp").GetProperty("properties").GetProperty("type");
        string text = opType.GetRawText() + (opType.TryGetProperty("$ref", out var r) ? schemas.GetProperty(r.GetString()!.Split('/')[^1]).GetRawText() : "");
        Assert.Contains("\"create\"", text);
        Assert.Contains("\"delete\"", text);
    }

    /// <summary>The message type behind a parameter or result: Task&lt;T&gt; → T; primitives, Guid, enums and void → null.</summary>
    private static Type? Unwrap(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>)) type = type.GetGenericArguments()[0];
        if (type == typeof(Task) || type == typeof(void)) return null;
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(Guid) ? null : type;
    }
}
