using System.Text.Json;
using VisionLabel.Server.Analytics;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Annotator bias (docs/analytics.md): five annotators label ten images each, every image showing two cars and two
/// trucks; one of them labels every truck a car. Worked by hand below: the biased one's label mix against the rest is
/// χ² 33.33 (p ≈ 8e-9) and flagged; an unbiased one's is χ² 2.08 (p 0.149) and not.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class AnnotatorBiasTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "bias", labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
        await _owner.UploadImagesAsync(_project.Id, 50);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public void The_chi_square_test_of_homogeneity_matches_the_hand_worked_tables()
    {
        // [[40, 0], [80, 80]]: E = [[24, 16], [96, 64]]; χ² = 256/24 + 256/16 + 256/96 + 256/64 = 33.333; 1 dof.
        var (chi, dof, p, cells) = AnnotatorBias.ChiSquare([40, 0], [80, 80]);
        Assert.Equal(33.3333, chi!.Value, 4);
        Assert.Equal(1, dof);
        Assert.InRange(p!.Value, 7.0e-9, 9.0e-9); // erfc(√(χ²/2)) for 1 dof
        Assert.Equal(4.0, cells[1].Expected > 0 ? -cells[1].Residual : 0, 4); // (0 − 16)/4 = −4
        // [[20, 20], [100, 60]]: χ² = 16/24 + 16/16 + 16/96 + 16/64 = 2.0833, p = 0.1489.
        var (chi2, _, p2, _) = AnnotatorBias.ChiSquare([20, 20], [100, 60]);
        Assert.Equal(2.0833, chi2!.Value, 4);
        Assert.Equal(0.1489, p2!.Value, 4);
        Assert.Null(AnnotatorBias.ChiSquare([5, 0], [0, 0]).P); // nothing to compare with
    }

    [Fact]
    public async Task A_planted_biased_annotator_is_flagged_and_an_unbiased_one_is_not()
    {
        var members = new ProjectMembers(_app, _owner);
        var car = _project.Labels.Single(l => l.Name == "car").Id;
        var truck = _project.Labels.Single(l => l.Name == "truck").Id;
        foreach (var person in new[] { "ann1", "ann2", "ann3", "ann4", "biased" })
        {
            await members.HubPathAsync("/hubs/annotations", _project.Id, person, "annotator");
            var client = _app.Client(person, admin: false);
            for (int n = 0; n < 10; n++)
            {
                var image = (await client.NextIdAsync(_project.Id))!.Value;
                // Two cars (small) and two trucks (large); the biased one calls the trucks cars, at the trucks' size.
                foreach (var (label, x, size) in new[] { (car, 2.0, 10.0), (car, 20.0, 12.0), (truck, 40.0, 30.0), (truck, 80.0, 32.0) })
                    (await client.PostJson($"/api/images/{image}/annotations", new
                    {
                        labelId = person == "biased" ? car : label, kind = "box", geometry = new { x, y = 5, width = size, height = size * 0.8 },
                    })).EnsureSuccessStatusCode();
                (await client.WorkAsync(image, "submit")).EnsureSuccessStatusCode();
            }
        }
        var report = await (await _owner.GetAsync($"/api/projects/{_project.Id}/analytics/bias")).Read<JsonElement>();
        var rows = report.GetProperty("annotators").EnumerateArray().ToDictionary(r => r.GetProperty("user").GetString()!);
        Assert.Equal(5, rows.Count);
        var biased = rows["biased"];
        Assert.Equal(33.333333, biased.GetProperty("labelChiSquare").GetDouble(), 5);
        Assert.True(biased.GetProperty("labelP").GetDouble() < 1e-8);
        var flag = Assert.Single(biased.GetProperty("flags").EnumerateArray()).GetString()!;
        Assert.Contains("fewer truck, more car than expected", flag); // the strongest first: residuals −4 and +3.27
        Assert.EndsWith("worth a look at their images", flag);
        foreach (var fair in new[] { "ann1", "ann2", "ann3", "ann4" })
        {
            Assert.Equal(2.083333, rows[fair].GetProperty("labelChiSquare").GetDouble(), 5);
            Assert.Empty(rows[fair].GetProperty("flags").EnumerateArray());
        }
        // Box sizes are the same for everyone (the biased one only relabels): no size difference to flag.
        Assert.True(biased.GetProperty("sizeP").GetDouble() > 0.001);
        // An annotator sees only their own row.
        var own = await (await _app.Client("ann1", admin: false).GetAsync($"/api/projects/{_project.Id}/analytics/bias")).Read<JsonElement>();
        Assert.Equal("ann1", Assert.Single(own.GetProperty("annotators").EnumerateArray()).GetProperty("user").GetString());
    }
}
