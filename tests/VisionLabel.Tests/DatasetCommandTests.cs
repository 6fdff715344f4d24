using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>`visionlabel import` and `visionlabel export` as a user runs them: separate processes on a data folder.</summary>
[Trait("Tier", Tiers.System)]
public class DatasetCommandTests
{
    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", [ServeCommandTests.ServerDll(), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath(),
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Import_and_export_from_the_command_line()
    {
        string yaml = SharedData.Require("datasets/coco128.yaml");
        string coco = SharedData.Require("datasets/coco_tiny_train/annotations/instances_train2017.json");
        using var data = new TempDirectory();

        // A YOLO dataset named by its yaml (the images are in coco128/ beside it), into a new project.
        var (code, stdout, stderr) = await Run("import", "--project", "c128", "--format", "yolo", "--path", yaml, "--data", data.Path);
        Assert.True(code == 0, stderr);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal((128, 929), (report.GetProperty("imagesCreated").GetInt32(), report.GetProperty("annotationsCreated").GetInt32()));
        Assert.Contains("skipped labels/train2017/000000000656.txt: label file without a matching image", stderr);

        // A COCO file by its path, into the same project: the categories match the YOLO names, so no new labels.
        (code, stdout, stderr) = await Run("import", "--project", "c128", "--format", "coco", "--path", coco, "--data", data.Path);
        Assert.True(code == 0, stderr);
        report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal((80, 0, 705), (report.GetProperty("imagesCreated").GetInt32(), report.GetProperty("labelsCreated").GetInt32(), report.GetProperty("annotationsCreated").GetInt32()));

        string zipPath = Path.Combine(data.Path, "out.zip");
        (code, stdout, stderr) = await Run("export", "--project", "c128", "--format", "yolo-detect", "--out", zipPath, "--data", data.Path);
        Assert.True(code == 0, stderr);
        Assert.Contains("Exported 'c128' as yolo-detect: 0 images", stderr); // nothing is approved yet: the default holds approved images only
        (code, stdout, stderr) = await Run("export", "--project", "c128", "--format", "yolo-detect", "--out", zipPath, "--val", "0.25", "--seed", "7", "--scope", "all", "--data", data.Path);
        Assert.True(code == 0, stderr);
        Assert.Contains("Exported 'c128' as yolo-detect: 206 images", stderr); // every image but the two unapproved backgrounds
        // stdout is the report: the filter used and the counts per state (all imported labels are accepted).
        var exported = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["accepted"], exported.GetProperty("filter").GetProperty("states").EnumerateArray().Select(e => e.GetString()));
        long accepted = exported.GetProperty("annotationsByState").GetProperty("accepted").GetInt64();
        Assert.Equal(accepted, exported.GetProperty("exportedByState").GetProperty("accepted").GetInt64() + exported.GetProperty("skippedAnnotations").GetInt64());
        using (var zip = ZipFile.OpenRead(zipPath))
        {
            int val = zip.Entries.Count(e => e.FullName.StartsWith("images/val/"));
            Assert.InRange(val, 30, 75); // about a quarter of 206
            Assert.Equal(206, zip.Entries.Count(e => e.FullName.StartsWith("images/")));
        }
        Assert.False(File.Exists(zipPath + ".partial"));

        (code, _, stderr) = await Run("import", "--project", "x", "--format", "coco", "--path", Path.Combine(data.Path, "nowhere"), "--data", data.Path);
        Assert.Equal(1, code);
        Assert.Contains("no file or folder at", stderr);
        (code, _, stderr) = await Run("export", "--project", "missing", "--format", "coco", "--out", zipPath, "--data", data.Path);
        Assert.Equal(1, code);
        Assert.Contains("no project named 'missing'", stderr);
    }

    [Fact]
    public async Task A_command_line_import_can_give_the_project_it_creates_an_owner()
    {
        string coco = SharedData.Require("datasets/coco_tiny_train/annotations/instances_train2017.json");
        using var data = new TempDirectory();
        await TestAccounts.TokenAsync(data.Path, [], "mia", admin: false); // an ordinary account, made as the CLI makes them

        // An unknown owner stops the import before anything is written.
        var (code, _, stderr) = await Run("import", "--project", "tiny", "--format", "coco", "--path", coco, "--owner", "nobody", "--data", data.Path);
        Assert.Equal(1, code);
        Assert.Contains("--owner: no account named 'nobody'", stderr);
        (code, _, stderr) = await Run("import", "--project", "tiny", "--format", "coco", "--path", coco, "--owner", "mia", "--data", data.Path);
        Assert.True(code == 0, stderr);
        Assert.Contains("owned by mia", stderr);

        // mia, who is no admin, finds the project in her list as its owner; it was created once.
        using var app = new VisionLabelApp(data.Path);
        using var mia = app.Client("mia", admin: false);
        var projects = await (await mia.GetAsync("/api/projects")).Read<List<VisionLabel.Server.Projects.ProjectDto>>();
        var tiny = Assert.Single(projects);
        Assert.Equal("tiny", tiny.Name);
        var members = await (await mia.GetAsync($"/api/projects/{tiny.Id}/members")).Read<List<VisionLabel.Server.Projects.MemberDto>>();
        Assert.Equal(("mia", VisionLabel.Server.Accounts.ProjectRole.Owner), (Assert.Single(members).UserName, members[0].Role));
    }
}
