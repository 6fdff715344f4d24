using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Api)]
public class ModelsApiTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;
    private readonly HttpClient _http;

    public ModelsApiTests()
    {
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client();
    }

    public void Dispose()
    {
        _app.Dispose();
        _data.Dispose();
    }

    private Task<HttpResponseMessage> UploadModel(string fileName, byte[] bytes, string? names = null, string? name = null) =>
        _http.UploadModel(fileName, bytes, names, name);

    [Fact]
    public async Task Upload_inspects_the_model_and_the_same_bytes_are_the_same_model()
    {
        byte[] bytes = File.ReadAllBytes(SharedData.Require("models/yolo11n-seg-int8-640.onnx"));
        var created = await UploadModel("yolo11n-seg-int8-640.onnx", bytes, name: "YOLO11n seg");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = await created.Read<ModelDto>();
        Assert.Equal(("YOLO11n seg", "ultralytics", "segment", 640, 640, 1, 80, "metadata"),
            (model.Name, model.Family, model.Task, model.InputWidth, model.InputHeight, model.FixedBatch ?? 0, model.ClassNames.Count, model.ClassNamesSource));

        var again = await UploadModel("copy.onnx", bytes);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(model.Id, (await again.Read<ModelDto>()).Id);
        Assert.Single(await (await _http.GetAsync("/api/models")).Read<List<ModelDto>>());
        Assert.True(File.Exists(Path.Combine(_data.Path, "blobs", VisionLabel.Server.Storage.BlobKeys.Model(model.ContentHash))));
    }

    [Fact]
    public async Task Yolox_takes_its_names_from_an_attached_file()
    {
        string names = File.ReadAllText(SharedData.Require("models/yolox_nano-416.coco_classes.txt"));
        var model = await (await UploadModel("yolox_nano-416.onnx", File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")), names)).Read<ModelDto>();
        Assert.Equal(("yolox", "detect", "names file", "person"), (model.Family, model.Task, model.ClassNamesSource, model.ClassNames[0]));

        var wrong = await (await UploadModel("yolox_nano-416.onnx", File.ReadAllBytes(SharedData.Require("models/derived/yolov8n-det-fp32dq-640.onnx")), "a\nb\n")).Problem(400);
        Assert.Contains("does not fit", wrong.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Models_no_adapter_understands_are_refused_with_what_was_found()
    {
        var text = await (await UploadModel("model.onnx", "definitely not protobuf"u8.ToArray())).Problem(400);
        Assert.Equal("Model not supported", text.GetProperty("title").GetString());
        Assert.Contains("not a loadable ONNX model", text.GetProperty("detail").GetString());

        var identity = await (await UploadModel("identity.onnx", TinyOnnx.Identity([1, 3, 32, 32]))).Problem(400);
        Assert.Contains("out float[1,3,32,32]", identity.GetProperty("detail").GetString());

        await (await UploadModel("empty.onnx", [])).Problem(400);
        Assert.Empty(await (await _http.GetAsync("/api/models")).Read<List<ModelDto>>());
    }

    [Fact]
    public async Task Classes_map_to_project_labels_by_name_and_the_mapping_can_be_edited()
    {
        var model = await (await UploadModel("det.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<ModelDto>();
        var project = await (await _http.PostJson("/api/projects", new { name = "streets", labels = new[] { new { name = "Person" }, new { name = "car" }, new { name = "pothole" } } })).Read<ProjectDto>();
        string url = $"/api/projects/{project.Id}/models/{model.Id}/mapping";

        var auto = await (await _http.GetAsync(url)).Read<ModelMappingDto>();
        Assert.False(auto.Saved);
        Assert.Equal("Person", auto.Classes[0].LabelName);  // "person" class, case ignored
        Assert.Equal("car", auto.Classes[2].LabelName);
        Assert.Equal(2, auto.Classes.Count(c => c.LabelId is not null));

        var pothole = project.Labels.Single(l => l.Name == "pothole");
        var saved = await (await _http.PutAsJsonAsync(url, new { classes = new object[] { new { classIndex = 0, labelId = project.Labels[0].Id }, new { classIndex = 7, labelId = pothole.Id } } })).Read<ModelMappingDto>();
        Assert.True(saved.Saved);
        Assert.Equal(("truck", "pothole"), (saved.Classes[7].ClassName, saved.Classes[7].LabelName));
        Assert.Null(saved.Classes[2].LabelId); // no longer mapped once a mapping is saved

        await (await _http.PutAsJsonAsync(url, new { classes = new[] { new { classIndex = 80, labelId = pothole.Id } } })).Problem(400);
        await (await _http.PutAsJsonAsync(url, new { classes = new[] { new { classIndex = 1, labelId = Guid.NewGuid() } } })).Problem(400);

        var renamed = await (await _http.PatchJson($"/api/models/{model.Id}", new { classNames = Enumerable.Range(0, 80).Select(i => $"c{i}").ToArray() })).Read<ModelDto>();
        Assert.Equal(("c0", "edited"), (renamed.ClassNames[0], renamed.ClassNamesSource));
        await (await _http.PatchJson($"/api/models/{model.Id}", new { classNames = new[] { "only-one" } })).Problem(400);
    }
}
