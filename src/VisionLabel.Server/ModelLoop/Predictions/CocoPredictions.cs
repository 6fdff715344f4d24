using System.Text.Json;
using VisionLabel.Server.Datasets;

namespace VisionLabel.Server.ModelLoop.Predictions;

/// <summary>
/// A COCO results file (https://cocodataset.org/#format-results): an array of
/// <c>{image_id | file_name, category_id, bbox | segmentation, score}</c>, or the object form
/// <c>{annotations: [...], categories?: [{id, name}]}</c> (with categories, category ids name labels by name).
/// Geometry is read by the dataset importer's own reader (<see cref="CocoImporter.Geometry"/>): polygons, RLE
/// (compressed or not) and bboxes, with the same checks. Each bad row is refused with its field; the rest are read.
/// </summary>
public static class CocoPredictions
{
    public static PredictionFile Read(JsonElement root, int maxRows)
    {
        var file = new PredictionFile("coco", CategoryScheme.CocoId, "category_id");
        JsonElement rows;
        if (root.ValueKind == JsonValueKind.Array) rows = root;
        else if (root.ValueKind == JsonValueKind.Object)
        {
            if (!root.TryGetProperty("annotations", out rows) || rows.ValueKind != JsonValueKind.Array)
                throw new PredictionsException("annotations", "the object form needs an 'annotations' array of results (or send the results array itself)");
            if (root.TryGetProperty("categories", out var categories)) file.Names = Categories(categories);
        }
        else throw new PredictionsException("body", "a COCO results file is a JSON array of results (or an object with an 'annotations' array)");
        if (rows.GetArrayLength() > maxRows)
            throw new PredictionsException("body", $"{rows.GetArrayLength():N0} results; at most {maxRows:N0} in one import, split the file");

        int row = 0;
        foreach (var a in rows.EnumerateArray())
        {
            if (RowProblem(a, row) is { } refusal) file.Refused.Add(refusal);
            else
            {
                var (geometry, problem) = CocoImporter.Geometry(a);
                string geometryField = HasSegmentation(a) ? "segmentation" : "bbox";
                if (geometry is null) file.Refused.Add(new(row, geometryField, problem!));
                else file.Rows.Add(new PredictionRow(row, null, Image(a), (int)a.GetProperty("category_id").GetInt64(), geometry, geometryField, Score(a)));
            }
            row++;
        }
        return file;
    }

    /// <summary>The first problem of the row's image, category and score (its geometry is checked by the dataset reader).</summary>
    private static PredictionRefusal? RowProblem(JsonElement a, int row)
    {
        if (a.ValueKind != JsonValueKind.Object) return new(row, "row", $"a result is a JSON object, not {Short(a)}");
        bool hasImageId = a.TryGetProperty("image_id", out var imageId), hasName = a.TryGetProperty("file_name", out var name);
        if (hasImageId && !(imageId.ValueKind == JsonValueKind.Number && imageId.TryGetInt64(out _)) && !(imageId.ValueKind == JsonValueKind.String && Guid.TryParse(imageId.GetString(), out _)))
            return new(row, "image_id", $"image_id {Short(imageId)} is not an integer COCO image id (or an image's id)");
        if (!hasImageId && !(hasName && name.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(name.GetString())))
            return new(row, hasName ? "file_name" : "image_id", hasName ? "file_name must be a non-empty string" : "a result names its image by image_id or file_name");
        if (!a.TryGetProperty("category_id", out var category) || category.ValueKind != JsonValueKind.Number || !category.TryGetInt64(out long c) || c is < int.MinValue or > int.MaxValue)
            return new(row, "category_id", $"category_id {(a.TryGetProperty("category_id", out var x) ? Short(x) : "(missing)")} is not an integer");
        if (a.TryGetProperty("score", out var score) && score.ValueKind != JsonValueKind.Null &&
            (score.ValueKind != JsonValueKind.Number || !score.TryGetDouble(out double sv) || !double.IsFinite(sv) || sv is < 0 or > 1))
            return new(row, "score", $"score {Short(score)} is not a number from 0 to 1");
        return null;
    }

    private static ImageKey Image(JsonElement a)
    {
        if (a.TryGetProperty("image_id", out var id))
            return id.ValueKind == JsonValueKind.Number ? new ImageKey(ExternalId: id.GetInt64()) : new ImageKey(Id: Guid.Parse(id.GetString()!));
        return new ImageKey(FileName: a.GetProperty("file_name").GetString()!.Replace('\\', '/'));
    }

    private static double? Score(JsonElement a) => a.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : null;

    /// <summary>As the dataset reader decides: a non-empty polygon list or an RLE object is the geometry, else the bbox.</summary>
    private static bool HasSegmentation(JsonElement a) => a.TryGetProperty("segmentation", out var s) &&
        (s.ValueKind == JsonValueKind.Object || (s.ValueKind == JsonValueKind.Array && s.GetArrayLength() > 0));

    private static Dictionary<int, string> Categories(JsonElement categories)
    {
        if (categories.ValueKind != JsonValueKind.Array) throw new PredictionsException("categories", "categories must be an array of {id, name}");
        var names = new Dictionary<int, string>();
        foreach (var c in categories.EnumerateArray())
        {
            if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out int n) ||
                !c.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
                throw new PredictionsException("categories", $"every category needs an integer id and a name (got {Short(c)})");
            if (!names.TryAdd(n, name.GetString()!.Trim())) throw new PredictionsException("categories", $"category id {n} appears twice");
        }
        return names;
    }

    /// <summary>Bad input quoted in a refusal, cut short: a report must never carry a megabyte of garbage back.</summary>
    internal static string Short(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length > 60 ? raw[..60] + "…" : raw;
    }
}
