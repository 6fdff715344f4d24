using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Data;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Loaded models leave memory: at once when deleted through this process, and once idle for
/// VisionLabel:Models:UnloadAfter otherwise (which is also how a model deleted through another process goes).
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ModelCacheTests
{
    [Fact]
    public async Task A_loaded_model_is_unloaded_when_deleted_and_when_idle()
    {
        byte[] bytes = File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx"));
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, new Dictionary<string, string?>
        {
            ["VisionLabel:Models:UnloadAfter"] = "00:00:04", ["VisionLabel:Inference:Device"] = "cpu", ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200",
        });
        using var http = app.Client();
        var cache = app.Services.GetRequiredService<DetectorCache>();
        var unloaded = new System.Collections.Concurrent.BlockingCollection<Guid>();
        cache.Unloaded += unloaded.Add;

        async Task<ModelDto> Prelabelled(string name)
        {
            var model = await (await http.UploadModel("yolov8n-det-int8-640.onnx", bytes, name: name)).Read<ModelDto>();
            var (project, _) = await http.ProjectWithImage(name, [.. model.ClassNames], 64, 48);
            var job = await (await http.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id })).Read<JobDto>();
            Assert.Equal(JobStatus.Completed, (await http.WaitForJob(job.Id)).Status);
            return model;
        }

        // Used by a job, then deleted: unloaded at once (well before it has been idle for UnloadAfter).
        var first = await Prelabelled("first");
        Assert.Equal(1, cache.Count);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/models/{first.Id}")).StatusCode);
        Assert.True(unloaded.TryTake(out var gone, TimeSpan.FromSeconds(2)), "the deleted model was not unloaded at once");
        Assert.Equal((first.Id, 0), (gone, cache.Count));

        // Used, then left alone: unloaded once idle for UnloadAfter.
        var second = await Prelabelled("second");
        Assert.Equal(1, cache.Count);
        Assert.True(unloaded.TryTake(out gone, TimeSpan.FromSeconds(30)), "the idle model was not unloaded");
        Assert.Equal((second.Id, 0), (gone, cache.Count));
    }
}
