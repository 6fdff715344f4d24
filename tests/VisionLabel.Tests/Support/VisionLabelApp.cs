using Microsoft.Extensions.Logging;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Images;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace VisionLabel.Tests.Support;

/// <summary>
/// The real server in-process on a data directory of the test's choosing (SQLite + local blobs by default).
/// Dispose and create another on the same directory to test a restart.
/// </summary>
public sealed class VisionLabelApp(string dataDirectory, IReadOnlyDictionary<string, string?>? settings = null,
    Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public string DataDirectory { get; } = dataDirectory;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("VisionLabel:DataDirectory", DataDirectory);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) builder.UseSetting(key, value);
        builder.UseEnvironment("Testing");
        if (services is not null) Microsoft.AspNetCore.TestHost.WebHostBuilderExtensions.ConfigureTestServices(builder, services);
        string logs = Path.Combine(Path.GetTempPath(), "visionlabel-test-logs");
        Directory.CreateDirectory(logs);
        builder.ConfigureLogging(l => l.AddProvider(new FileLoggerProvider(Path.Combine(logs, Path.GetFileName(DataDirectory.TrimEnd('/')) + ".log"))));
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, bool), string> _tokens = new();

    /// <summary>A write token of this account (created on first use; admins by default, so they reach every project).</summary>
    public string Token(string user = "tester", bool admin = true) =>
        _tokens.GetOrAdd((user, admin), key => Task.Run(() => TestAccounts.TokenAsync(Services, key.Item1, key.Item2)).GetAwaiter().GetResult());

    /// <summary>An API client signed in (by token) as this account.</summary>
    public HttpClient Client(string user = "tester", bool admin = true)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(user, admin));
        return client;
    }

    /// <summary>A hub path with the account's token (as browsers send it on WebSockets).</summary>
    public string HubPath(string path, string user = "tester", bool admin = true) => $"{path}?access_token={Token(user, admin)}";
}

public static class HttpExtensions
{
    public static async Task<T> Read<T>(this HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        return JsonSerializer.Deserialize<T>(body, VisionLabelApp.Json)!;
    }

    public static async Task<JsonElement> Problem(this HttpResponseMessage response, int expectedStatus)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"expected {expectedStatus}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }

    /// <summary>
    /// Polls GET /api/jobs/{id} until <paramref name="condition"/> holds (default: the job has ended). A timeout says
    /// where the job stood, plus what <paramref name="diagnose"/> adds.
    /// </summary>
    public static async Task<VisionLabel.Server.Jobs.JobDto> WaitForJob(this HttpClient client, Guid jobId,
        Func<VisionLabel.Server.Jobs.JobDto, bool>? condition = null, int seconds = 120, Func<string>? diagnose = null)
    {
        condition ??= j => j.Status is not (VisionLabel.Server.Data.JobStatus.Queued or VisionLabel.Server.Data.JobStatus.Running);
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        VisionLabel.Server.Jobs.JobDto job;
        do
        {
            job = await (await client.GetAsync($"/api/jobs/{jobId}")).Read<VisionLabel.Server.Jobs.JobDto>();
            if (condition(job)) return job;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"job {jobId} stuck at {job.Status} {job.Done}/{job.Total} ({job.Chunks} chunks, {job.Attempts} attempts), error: {job.LastError}"
                                   + (diagnose is null ? "" : "; " + diagnose()));
    }

    /// <summary>POSTs a dataset import (it runs as a job: 202), waits for the job and returns its report.</summary>
    public static async Task<VisionLabel.Server.Datasets.ImportReport> ImportDataset(this HttpClient client, string url, HttpContent zip)
    {
        var response = await client.PostAsync(url, zip);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var job = await client.WaitForJob((await response.Read<VisionLabel.Server.Jobs.JobDto>()).Id);
        Assert.True(job.Status == VisionLabel.Server.Data.JobStatus.Completed, $"import job {job.Status}: {job.LastError}");
        return job.ImportReport!;
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, VisionLabelApp.Json);

    public static Task<HttpResponseMessage> PatchJson(this HttpClient client, string url, object body) =>
        client.PatchAsJsonAsync(url, body, VisionLabelApp.Json);

    /// <summary>POST /api/models with the model as the 'file' part, and optionally a names file and a display name.</summary>
    public static Task<HttpResponseMessage> UploadModel(this HttpClient client, string fileName, byte[] model, string? names = null, string? name = null)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(model);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        if (names is not null) form.Add(new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(names)), "names", "names.txt");
        if (name is not null) form.Add(new StringContent(name), "name");
        return client.PostAsync("/api/models", form);
    }

    /// <summary>A project with these labels and one uploaded JPEG of the given size (the usual starting point).</summary>
    public static async Task<(ProjectDto Project, ImageDto Image)> ProjectWithImage(this HttpClient client, string name, string[] labels, int width, int height)
    {
        var project = await (await client.PostJson("/api/projects", new { name, labels = labels.Select(l => new { name = l }) })).Read<ProjectDto>();
        var upload = await (await client.PostAsync($"/api/projects/{project.Id}/images",
            Files(("scene.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(width, height)))))).Read<UploadSummary>();
        return (project, upload.Files[0].Image!);
    }

    /// <summary>A dataset zip as the multipart 'file' part the import endpoints take.</summary>
    public static MultipartFormDataContent ZipUpload(byte[] zip)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(zip);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        form.Add(part, "file", "dataset.zip");
        return form;
    }

    public static MultipartFormDataContent Files(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }
        return form;
    }
}

/// <summary>Warnings and errors of every in-process server, one file per data directory under the temp folder's
/// visionlabel-test-logs, so a failing test's server side can be read afterwards.</summary>
public sealed class FileLoggerProvider(string path) : Microsoft.Extensions.Logging.ILoggerProvider
{
    private readonly Lock _lock = new();
    public Microsoft.Extensions.Logging.ILogger CreateLogger(string category) => new FileLogger(this, category);
    public void Dispose() { }

    private void Write(string line)
    {
        lock (_lock) File.AppendAllText(path, line + Environment.NewLine);
    }

    private sealed class FileLogger(FileLoggerProvider owner, string category) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel level) => level >= Microsoft.Extensions.Logging.LogLevel.Warning;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel level, Microsoft.Extensions.Logging.EventId id, TState state, Exception? error, Func<TState, Exception?, string> format)
        {
            if (IsEnabled(level)) owner.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {level} {category}: {format(state, error)} {error}");
        }
    }
}
