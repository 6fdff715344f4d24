using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace VisionLabel.Server.Data;

/// <summary>A label's attribute definitions as the JSON column stores them (the API's names: camelCase, types in lower case).</summary>
internal static class LabelAttributeJson
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write(List<LabelAttribute> list) => list.Count == 0 ? "[]" : JsonSerializer.Serialize(list, Json);
    public static List<LabelAttribute> Read(string json) => string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<LabelAttribute>>(json, Json) ?? [];

    public static readonly ValueConverter<List<LabelAttribute>, string> Converter = new(v => Write(v), v => Read(v));

    // Records with lists and JsonElements do not compare by value: compare what would be stored.
    public static readonly ValueComparer<List<LabelAttribute>> Comparer = new(
        (a, b) => Write(a!) == Write(b!), v => Write(v).GetHashCode(), v => Read(Write(v)));
}
