using System.Text.RegularExpressions;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The server as a user runs it: its own process, `serve --urls --data`, real Kestrel, stopped and started
/// again on the same data directory.
/// </summary>
[Trait("Tier", Tiers.System)]
public class ServeCommandTests
{
    internal static string ServerDll()
    {
        // The server's own build output for the configuration these tests were built in.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string dll = Path.Combine(SharedData.RepositoryRoot, "src", "VisionLabel.Server", "bin", configuration, "net10.0", "VisionLabel.Server.dll");
        Assert.True(File.Exists(dll), $"server build output missing: {dll}");
        return dll;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static Task<Process> Serve(string url, string data, params string[] extra) => Serve(url, data, null, extra);

    /// <param name="output">Receives each line the server writes to stdout.</param>
    internal static async Task<Process> Serve(string url, string data, Action<string>? output, params string[] extra)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", [ServerDll(), "serve", "--urls", url, "--data", data, .. extra])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath(),
        })!;
        // The server's console goes to the tests' log folder, so a failure there can be read afterwards.
        string logs = Path.Combine(Path.GetTempPath(), "visionlabel-test-logs");
        Directory.CreateDirectory(logs);
        var log = new StreamWriter(Path.Combine(logs, Path.GetFileName(data.TrimEnd('/')) + ".serve.log"), append: true) { AutoFlush = true };
        var writing = new Lock();
        // Closed when both streams have ended (a null line), not when the process exits: lines still arrive after
        // Exited, and writing one to a closed log threw on a thread-pool thread and crashed the whole test run.
        int open = 2;
        void Write(string? line)
        {
            lock (writing)
            {
                if (open == 0) return;
                if (line is not null) log.WriteLine(line);
                else if (--open == 0) log.Dispose();
            }
        }
        process.OutputDataReceived += (_, e) => { Write(e.Data); if (e.Data is not null) output?.Invoke(e.Data); };
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            Assert.False(process.HasExited, $"server exited with code {(process.HasExited ? process.ExitCode : 0)}");
            try { if ((await http.GetAsync("/health")).IsSuccessStatusCode) return process; }
            catch (HttpRequestException) { }
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("server did not answer /health within 60 s");
    }

    private static async Task Stop(Process process)
    {
        // SIGTERM, as systemd or Ctrl-C would: a graceful shutdown.
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
    }

    [Fact]
    public async Task Prelabel_command_writes_coco_json_with_masks_and_reports_bad_images()
    {
        string model = SharedData.Require("models/yolo11n-seg-int8-640.onnx");
        using var dir = new TempDirectory();
        string images = Path.Combine(dir.Path, "images");
        Directory.CreateDirectory(images);
        foreach (var f in Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(4))
            File.Copy(f, Path.Combine(images, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(images, "broken.jpg"), "not an image");
        string output = Path.Combine(dir.Path, "out", "results.json");

        var process = Process.Start(new ProcessStartInfo("dotnet", [ServerDll(), "prelabel", "--model", model, "--images", images, "--out", output, "--device", "cpu"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        })!;
        string log = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, log);
        Assert.Contains("4 images labeled, 1 failed", log);

        using var coco = System.Text.Json.JsonDocument.Parse(File.ReadAllText(output));
        var root = coco.RootElement;
        Assert.Equal(4, root.GetProperty("images").GetArrayLength());
        Assert.Equal(80, root.GetProperty("categories").GetArrayLength());
        Assert.Equal("person", root.GetProperty("categories")[0].GetProperty("name").GetString());
        var annotations = root.GetProperty("annotations").EnumerateArray().ToList();
        Assert.NotEmpty(annotations);
        foreach (var a in annotations)
        {
            var image = root.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("id").GetInt32() == a.GetProperty("image_id").GetInt32());
            var rle = a.GetProperty("segmentation");
            Assert.Equal([image.GetProperty("height").GetInt32(), image.GetProperty("width").GetInt32()], rle.GetProperty("size").EnumerateArray().Select(v => v.GetInt32()));
            var counts = CocoRle.Decode(rle.GetProperty("counts").GetString()!)!;
            Assert.Equal((long)image.GetProperty("height").GetInt32() * image.GetProperty("width").GetInt32(), counts.Sum());
            Assert.Equal(a.GetProperty("area").GetInt64(), counts.Where((_, i) => i % 2 == 1).Sum());
            Assert.InRange(a.GetProperty("score").GetDouble(), 0.25, 1);
        }
        Assert.Equal("broken.jpg", root.GetProperty("errors")[0].GetProperty("file_name").GetString());

        var badModel = Process.Start(new ProcessStartInfo("dotnet", [ServerDll(), "prelabel", "--model", Path.Combine(images, "broken.jpg"), "--images", images, "--out", output])
        {
            RedirectStandardError = true,
        })!;
        string badLog = await badModel.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await badModel.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, badModel.ExitCode);
        Assert.Contains("not an ONNX model", badLog);
    }

    /// <summary>Runs `visionlabel ARGS` (the server executable's other verbs) and returns its exit code, stdout and stderr.</summary>
    internal static async Task<(int Code, string Stdout, string Stderr)> Cli(string[] args, string? stdin = null)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", [ServerDll(), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = Path.GetTempPath(),
        })!;
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task A_bad_setting_stops_the_start_with_each_key_named()
    {
        // Options are validated at start (issue #20): before, a bad value failed later, mid-request or mid-job, and an
        // S3 endpoint given as a URL with a path failed with the SDK's "MinIO API responded with message=endpoint".
        using var data = new TempDirectory();
        var (code, _, stderr) = await Cli(["serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--data", data.Path,
            "--VisionLabel:Images:MaxPixels=0", "--VisionLabel:Storage:Provider=s3", "--VisionLabel:Storage:S3:Endpoint=http://minio:9000/bucket",
            "--VisionLabel:Storage:S3:AccessKey=a", "--VisionLabel:Storage:S3:SecretKey=b", "--VisionLabel:Inference:CpuThreadsPerRun=0"]);
        Assert.Equal(2, code);
        Assert.Contains("VisionLabel:Images:MaxPixels must be at least 1, not 0", stderr);
        Assert.Contains("VisionLabel:Storage:S3:Endpoint 'http://minio:9000/bucket' is not usable", stderr);
        Assert.Contains("VisionLabel:Inference:CpuThreadsPerRun must be at least 1, not 0", stderr);
        Assert.DoesNotContain("   at ", stderr); // a message, not a stack trace
        Assert.False(File.Exists(Path.Combine(data.Path, "visionlabel.db")), "the database is not created or migrated before the settings are checked");

        // An unknown database provider is named the same way (it threw from the host's build, with a stack trace).
        (code, _, stderr) = await Cli(["serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--data", data.Path, "--VisionLabel:Database:Provider=mysql"]);
        Assert.Equal(2, code);
        Assert.Contains("VisionLabel:Database:Provider must be one of sqlite, postgres, postgresql, not 'mysql'", stderr);
        Assert.DoesNotContain("   at ", stderr);
        // The CLI verbs check the same settings (and create nothing: the check comes before the database).
        (code, _, stderr) = await Cli(["users", "add", "someone", "--data", data.Path, "--VisionLabel:Storage:Provider=locl"]);
        Assert.Equal(2, code);
        Assert.Contains("VisionLabel:Storage:Provider must be one of local, s3, minio, not 'locl'", stderr);
    }

    [Fact]
    public async Task The_setup_link_stands_out_because_libraries_log_warnings_only()
    {
        // Issue #20, bug 10: the link was buried among ~80 lines of Hangfire and ASP.NET Core information logs.
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{FreePort()}";
        var lines = new List<string>();
        var link = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await Serve(url, data.Path, line => { lock (lines) lines.Add(line); if (line.Contains("/setup?token=")) link.TrySetResult(); });
        try
        {
            await link.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            string[] before;
            lock (lines) before = lines.TakeWhile(l => !l.Contains("/setup?token=")).ToArray();
            Assert.DoesNotContain(before, l => l.Contains("Hangfire"));
            Assert.True(before.Length <= 20, $"{before.Length} lines before the link:\n{string.Join('\n', before)}");
            int running = Array.FindIndex(before, l => l.Contains($"VisionLabel is running at {url}"));
            Assert.True(running > 0 && before[running - 1].StartsWith("====="), "the URL and the link are framed by a rule");
        }
        finally { await Stop(server); }
    }

    [Fact]
    public async Task First_start_prints_a_setup_link_and_CLI_accounts_and_tokens_work_on_the_running_server()
    {
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{FreePort()}";
        var link = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await Serve(url, data.Path, line => { if (line.Contains("/setup?token=")) link.TrySetResult(line.Trim()); });
        try
        {
            string setup = await link.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Matches($"^{Regex.Escape(url)}/setup\\?token=[A-Za-z0-9_-]{{100,}}$", setup);
            using var anonymous = new HttpClient { BaseAddress = new Uri(url) };
            await (await anonymous.GetAsync("/api/projects")).Problem(401);

            var add = await Cli(["users", "add", "ops", "--admin", "--password-stdin", "--data", data.Path], "a-long-cli-password\n");
            Assert.True(add.Code == 0, add.Stderr);
            Assert.Equal("", add.Stdout.Trim()); // the password came from stdin: nothing to show
            var taken = await Cli(["users", "add", "ops", "--data", data.Path]);
            Assert.Equal(1, taken.Code);
            Assert.Contains("is taken", taken.Stderr);

            var write = await Cli(["tokens", "create", "--user", "ops", "--scope", "write", "--data", data.Path]);
            Assert.True(write.Code == 0, write.Stderr);
            Assert.Matches("^vlpat_[A-Za-z0-9_-]{43}$", write.Stdout.Trim()); // the token alone on stdout, for $(...)
            var read = await Cli(["tokens", "create", "--user", "ops", "--expires", "7", "--name", "dashboards", "--data", data.Path]);
            Assert.Contains("expires", read.Stderr);
            using var writer = TestAccounts.Client(url, write.Stdout.Trim());
            using var reader = TestAccounts.Client(url, read.Stdout.Trim());
            await (await writer.PostJson("/api/projects", new { name = "from-a-script" })).Read<ProjectDto>();
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/projects")).StatusCode);
            await (await reader.PostJson("/api/projects", new { name = "read-only" })).Problem(403);
            // An account exists now: the setup link is of no use any more.
            await (await anonymous.PostJson("/api/setup", new { token = setup[(setup.IndexOf('=') + 1)..], userName = "late", password = "another-long-one" })).Problem(409);

            var revoke = await Cli(["tokens", "revoke", "--user", "ops", "--all", "--data", data.Path]);
            Assert.True(revoke.Code == 0, revoke.Stderr);
            Assert.Contains("Revoked 2 tokens", revoke.Stderr);
            // The server that is running refuses them on the very next request.
            await (await writer.GetAsync("/api/projects")).Problem(401);
            await (await reader.GetAsync("/api/projects")).Problem(401);
        }
        finally { server.Kill(entireProcessTree: true); }
    }

    [Fact]
    public async Task Serve_accepts_coco128_and_keeps_everything_across_a_restart()
    {
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().ToArray();
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{FreePort()}";
        using var http = TestAccounts.Client(url, await TestAccounts.TokenAsync(data.Path, []));

        var server = await Serve(url, data.Path);
        ProjectDto project;
        UploadSummary upload;
        AnnotationDto box;
        try
        {
            project = await (await http.PostJson("/api/projects", new { name = "coco128", labels = new[] { new { name = "person" } } })).Read<ProjectDto>();
            upload = await (await http.PostAsync($"/api/projects/{project.Id}/images",
                HttpExtensions.Files(files.Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray()))).Read<UploadSummary>();
            Assert.Equal(files.Length, upload.Created + upload.Duplicates);
            var first = upload.Files[0].Image!;
            box = await (await http.PostJson($"/api/images/{first.Id}/annotations",
                new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 0, y = 0, width = first.Width, height = first.Height } })).Read<AnnotationDto>();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/images/{first.Id}/thumbnail")).StatusCode);
        }
        finally { await Stop(server); }

        Assert.True(File.Exists(Path.Combine(data.Path, "visionlabel.db")));
        server = await Serve(url, data.Path);
        try
        {
            var page = await (await http.GetAsync($"/api/projects/{project.Id}/images?limit=1000")).Read<ImagePage>();
            Assert.Equal(upload.Created, page.Total);
            Assert.Equal(upload.Files.Where(f => f.Outcome == UploadOutcome.Created).Select(f => (f.Image!.Width, f.Image.Height)).Order(),
                page.Items.Select(i => (i.Width, i.Height)).Order());
            var again = await (await http.GetAsync($"/api/images/{box.ImageId}/annotations/{box.Id}")).Read<AnnotationDto>();
            Assert.Equal(box.Geometry.GetRawText(), again.Geometry.GetRawText());
        }
        finally { await Stop(server); }
    }
}
