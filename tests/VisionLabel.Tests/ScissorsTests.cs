using System.Text.Json;
using VisionLabel.Imaging;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Scissors (live-wire, issue #25) through POST /api/images/{id}/scissors on a synthetic picture: a bright square on a
/// dark ground. Paths from an anchor on the square's edge follow the edge, around a corner too; bad input is a 400
/// naming the field.
/// </summary>
[Trait("Tier", Tiers.Api)]
public sealed class ScissorsTests : IAsyncLifetime
{
    private const int Width = 800, Height = 600, Left = 200, Top = 150, Right = 500, Bottom = 450; // the square: [Left, Right) × [Top, Bottom)
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;

    public ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("olga", admin: false);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _owner.Dispose();
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<Guid> SquareImage()
    {
        var picture = new RgbImage(Width, Height);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                byte v = x >= Left && x < Right && y >= Top && y < Bottom ? (byte)220 : (byte)30;
                picture.Pixels.AsSpan((y * Width + x) * 3, 3).Fill(v);
            }
        var project = await (await _owner.PostJson("/api/projects", new { name = "scissors", labels = new[] { new { name = "square" } } })).Read<ProjectDto>();
        var upload = await (await _owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(("square.png", TestImages.Png(picture))))).Read<UploadSummary>();
        return upload.Files[0].Image!.Id;
    }

    /// <summary>Pixels from the square's outline (the edge lies between the last dark and the first bright pixel).</summary>
    private static double FromOutline(int x, int y)
    {
        double cx = x + 0.5, cy = y + 0.5;
        double dx = Math.Max(Math.Max(Left - cx, cx - Right), 0), dy = Math.Max(Math.Max(Top - cy, cy - Bottom), 0);
        bool inside = dx == 0 && dy == 0;
        return inside ? Math.Min(Math.Min(cx - Left, Right - cx), Math.Min(cy - Top, Bottom - cy)) : Math.Sqrt(dx * dx + dy * dy);
    }

    [Fact]
    public async Task Paths_follow_the_edge_and_turn_its_corner()
    {
        var image = await SquareImage();
        var anchor = new { x = 260, y = 150 };
        var answer = await (await _owner.PostJson($"/api/images/{image}/scissors",
            new { anchor, targets = new[] { new { x = 440, y = 150 }, new { x = 499, y = 330 } } })).Read<JsonElement>();
        var window = answer.GetProperty("window");
        Assert.Equal((4, 0, 512, 512), (window.GetProperty("x").GetInt32(), window.GetProperty("y").GetInt32(), window.GetProperty("width").GetInt32(), window.GetProperty("height").GetInt32()));
        var paths = answer.GetProperty("paths").EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToList();
        Assert.Equal(2, paths.Count);
        foreach (var (path, target) in paths.Zip(new[] { (440, 150), (499, 330) }))
        {
            Assert.Equal((260, 150), (path[0], path[1]));
            Assert.Equal(target, (path[^2], path[^1]));
            for (int i = 0; i < path.Length; i += 2)
                Assert.True(FromOutline(path[i], path[i + 1]) <= 2, $"({path[i]}, {path[i + 1]}) is {FromOutline(path[i], path[i + 1]):F1} px off the edge");
        }
        // The second path went round the corner rather than across the square (where a straight line would go).
        Assert.Contains(Enumerable.Range(0, paths[1].Length / 2), i => Math.Abs(paths[1][2 * i] - Right) <= 2 && Math.Abs(paths[1][2 * i + 1] - Top) <= 2);

        // The same anchor again (its map is cached): the same path.
        var again = await (await _owner.PostJson($"/api/images/{image}/scissors", new { anchor, targets = new[] { new { x = 440, y = 150 } } })).Read<JsonElement>();
        Assert.Equal(paths[0], again.GetProperty("paths")[0].EnumerateArray().Select(v => v.GetInt32()));
    }

    [Fact]
    public async Task Bad_input_is_a_400_naming_the_field()
    {
        var image = await SquareImage();
        var near = new { x = 300, y = 150 };
        foreach (var (body, field) in new (object, string)[]
        {
            (new { targets = new[] { near } }, "anchor"),
            (new { anchor = new { x = 800, y = 10 }, targets = new[] { near } }, "anchor"),
            (new { anchor = new { x = -1, y = 10 }, targets = new[] { near } }, "anchor"),
            (new { anchor = near }, "targets"),
            (new { anchor = near, targets = Array.Empty<object>() }, "targets"),
            (new { anchor = near, targets = Enumerable.Range(0, 65).Select(i => new { x = 300 + i, y = 150 }) }, "targets"),
            (new { anchor = near, targets = new[] { near, new { x = 790, y = 150 } } }, "targets[1]"),
            (new { anchor = near, targets = new object?[] { null } }, "targets[0]"),
        })
        {
            var problem = await (await _owner.PostJson($"/api/images/{image}/scissors", body)).Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field}: {problem}");
        }
        await (await _owner.PostJson($"/api/images/{Guid.NewGuid()}/scissors", new { anchor = near, targets = new[] { near } })).Problem(404);
    }
}
