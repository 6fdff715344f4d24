using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace VisionLabel.Bench;

/// <summary>
/// Seeding 100,000 shapes on one 4000 × 3000 image (issue 26) through POST /api/images/{id}/annotations/bulk on an
/// in-process server (SQLite, the default), 10,000 a request, boxes with every third a triangle; the baseline is the
/// same shapes one POST …/annotations each, timed for the first 1,000 (one by one, 100,000 would take the benchmark's
/// whole budget) and reported per shape.
/// </summary>
public static class BulkBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        await using var server = await BenchServer.StartAsync("bulk");
        using var http = await BenchAccess.ClientAsync(server.Services, server.Url);
        var project = await Json(await http.PostAsJsonAsync("/api/projects", new { name = "bulk-bench", labels = new[] { new { name = "tree" } } }));
        string label = project.GetProperty("labels")[0].GetProperty("id").GetString()!;
        string Image(string name)
        {
            var image = new byte[4000 * 3000 * 3];
            image.AsSpan(0, 3000).Fill((byte)name.Length); // two different files (the same bytes would be one image)
            using var form = new MultipartFormDataContent { { new ByteArrayContent(VisionLabel.Imaging.ImageCodec.EncodeJpeg(new VisionLabel.Imaging.RgbImage(4000, 3000, image))), "files", name } };
            var upload = Json(http.PostAsync($"/api/projects/{project.GetProperty("id")}/images", form).GetAwaiter().GetResult()).GetAwaiter().GetResult();
            return upload.GetProperty("files")[0].GetProperty("image").GetProperty("id").GetString()!;
        }
        object Shape(int i)
        {
            double x = i % 400 * 10, y = i / 400 % 300 * 10;
            return i % 3 == 0
                ? new { labelId = label, kind = "polygon", geometry = new { rings = new[] { new[] { x, y, x + 8, y, x + 4, y + 8 } } } }
                : new { labelId = label, kind = "box", geometry = new { x, y, width = 8.0, height = 8.0 } };
        }

        string bulkImage = Image("bulk.jpg"), singleImage = Image("single.jpg");
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < 100_000; start += 10_000)
        {
            var response = await http.PostAsJsonAsync($"/api/images/{bulkImage}/annotations/bulk", new { annotations = Enumerable.Range(start, 10_000).Select(Shape).ToArray() });
            if (!response.IsSuccessStatusCode) { Console.Error.WriteLine(await response.Content.ReadAsStringAsync()); return 1; }
        }
        double bulk = clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < 1000; i++)
            (await http.PostAsJsonAsync($"/api/images/{singleImage}/annotations", Shape(i))).EnsureSuccessStatusCode();
        double single = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var all = await Json(await http.GetAsync($"/api/images/{bulkImage}/annotations"));
        double read = clock.Elapsed.TotalSeconds;
        Console.WriteLine("| way | shapes | seconds | shapes/s |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| bulk, 10,000 a request | 100,000 | {bulk:F1} | {100_000 / bulk:F0} |");
        Console.WriteLine($"| one POST each (baseline) | 1,000 | {single:F1} | {1000 / single:F0} |");
        Console.WriteLine($"| read back (GET …/annotations) | {all.GetArrayLength():N0} | {read:F1} | {all.GetArrayLength() / read:F0} |");
        Console.WriteLine($"bulk is {(100_000 / bulk) / (1000 / single):F0}× the one-by-one rate");
        return 0;
    }

    private static Task<JsonElement> Json(HttpResponseMessage response) => BenchAccess.JsonAsync(response);
}
