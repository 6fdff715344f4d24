using System.Globalization;
using System.Text;
using VisionLabel.Server.Datasets;

namespace VisionLabel.Server.ModelLoop.Predictions;

/// <summary>
/// YOLO predictions (Ultralytics <c>save_txt=True, save_conf=True</c>): a zip of <c>name.txt</c> files, one per image
/// (matched by file name without the extension, in any folder), a line per object: <c>class cx cy w h score</c>
/// (detect) or <c>class x1 y1 … xn yn score</c> (segment), fractions of the image size, the score last. The line
/// without its score is read by the dataset importer's own reader (<see cref="YoloImporter.ParseLine"/>). A data.yaml
/// in the zip, when there is one, names the classes: labels are then matched by name instead of the project's class order.
/// </summary>
public static class YoloPredictions
{
    /// <summary>As the dataset importer: a label file this size would hold ~100k objects; anything bigger is not one.</summary>
    private const long MaxFileBytes = 16 << 20;

    public static async Task<PredictionFile> ReadAsync(ZipSource zip, int maxRows, CancellationToken ct)
    {
        var file = new PredictionFile("yolo", CategoryScheme.ClassIndex, "class");
        try
        {
            if (zip.Files.FirstOrDefault(f => Path.GetFileName(f) is "data.yaml" or "data.yml") is { } yaml)
            {
                using var reader = new StreamReader(zip.Open(yaml), Encoding.UTF8);
                if (DataYaml.Names(await reader.ReadToEndAsync(ct), yaml) is { } names)
                    file.Names = names.Select((n, i) => (n, i)).ToDictionary(x => x.i, x => x.n.Trim());
            }
            // In name order (ZipSource sorts). classes.txt (Label Studio's and LabelImg's list of names) is no image's predictions.
            var labelFiles = zip.Files.Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && Path.GetFileName(f) != "classes.txt").ToList();
            if (labelFiles.Count == 0) throw new PredictionsException("file", "the zip has no .txt prediction files (name.txt per image, a line 'class cx cy w h score' per object)");
            int row = 0;
            foreach (var path in labelFiles)
            {
                var image = new ImageKey(Stem: Path.GetFileNameWithoutExtension(path));
                using var stream = zip.Open(path);
                if (stream.Length > MaxFileBytes)
                {
                    file.Refused.Add(new(row++, "file", $"{stream.Length:N0} bytes; a prediction file over {MaxFileBytes:N0} is not read", path));
                    continue;
                }
                using var reader = new StreamReader(stream, Encoding.UTF8);
                int lineNumber = 0;
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    lineNumber++;
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    if (row >= maxRows) throw new PredictionsException("file", $"over {maxRows:N0} prediction lines; at most {maxRows:N0} in one import, split the zip");
                    Read(file, row++, $"{path} line {lineNumber}", image, line);
                }
            }
        }
        catch (DatasetException e) { throw new PredictionsException("file", e.Message); } // an unsafe entry or a bad data.yaml, found while reading
        return file;
    }

    private static void Read(PredictionFile file, int row, string where, ImageKey image, string line)
    {
        var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!int.TryParse(tokens[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int cls) || cls < 0)
        {
            file.Refused.Add(new(row, "class", $"class '{Short(tokens[0])}' is not a class index (an integer from 0)", where));
            return;
        }
        // Scored lines have an odd count of numbers after the class: 5 for a box, 2n + 1 for a polygon.
        int values = tokens.Length - 1;
        if (values % 2 == 0)
        {
            file.Refused.Add(new(row, "score", $"{values} numbers after the class; the score comes last: 'class cx cy w h score' (5) or 'class x1 y1 … xn yn score' (2n + 1)", where));
            return;
        }
        if (!double.TryParse(tokens[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) || !double.IsFinite(score) || score is < 0 or > 1)
        {
            file.Refused.Add(new(row, "score", $"score '{Short(tokens[^1])}' is not a number from 0 to 1", where));
            return;
        }
        // The class range is the project's, checked when labels are mapped: the reader takes any index here.
        var (annotation, problem) = YoloImporter.ParseLine(string.Join(' ', tokens[..^1]), where, int.MaxValue);
        if (annotation is null) file.Refused.Add(new(row, "coordinates", problem!, where));
        else file.Rows.Add(new PredictionRow(row, where, image, cls, annotation.Geometry, "coordinates", score));
    }

    private static string Short(string token) => token.Length > 40 ? token[..40] + "…" : token;
}
