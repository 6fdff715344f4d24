using System.Net;
using System.Text.Json;
using VisionLabel.Server.Images;

namespace VisionLabel.Tests.Support;

/// <summary>A clock the test moves: what the server's TimeProvider says (leases expire when the test says so, not after a sleep).</summary>
public sealed class TestClock(bool frozen = false) : TimeProvider
{
    private readonly DateTimeOffset _start = System.GetUtcNow();
    private long _offsetTicks;
    /// <summary>Frozen: time moves only when the test advances it (durations measured by the server come out exact).</summary>
    public override DateTimeOffset GetUtcNow() => (frozen ? _start : System.GetUtcNow()).AddTicks(Interlocked.Read(ref _offsetTicks));
    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

/// <summary>The work queue's routes as the tests call them.</summary>
public static class WorkFlow
{
    /// <summary>Uploads <paramref name="count"/> distinct small JPEGs (in batches); their ids in upload order.</summary>
    public static async Task<List<Guid>> UploadImagesAsync(this HttpClient client, Guid projectId, int count)
    {
        var ids = new List<Guid>();
        for (int start = 0; start < count; start += 50)
        {
            var files = Enumerable.Range(start, Math.Min(50, count - start))
                .Select(i => ($"img{i:D4}.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(128 + i % 97, 96 + i / 97)))).ToArray();
            var summary = await (await client.PostAsync($"/api/projects/{projectId}/images", HttpExtensions.Files(files))).Read<UploadSummary>();
            Assert.Equal(files.Length, summary.Created);
            ids.AddRange(summary.Files.Select(f => f.Image!.Id));
        }
        return ids;
    }

    /// <summary>POST …/queue/next: the leased image id, or null on 204.</summary>
    public static async Task<JsonElement?> NextAsync(this HttpClient client, Guid projectId, string stage = "annotate")
    {
        var response = await client.PostJson($"/api/projects/{projectId}/queue/next", new { stage });
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        return await response.Read<JsonElement>();
    }

    public static async Task<Guid?> NextIdAsync(this HttpClient client, Guid projectId, string stage = "annotate") =>
        (await client.NextAsync(projectId, stage))?.GetProperty("imageId").GetGuid();

    /// <summary>POST /api/images/{id}/{action} (submit, approve, reopen; reject with a body).</summary>
    public static Task<HttpResponseMessage> WorkAsync(this HttpClient client, Guid imageId, string action, object? body = null) =>
        client.PostJson($"/api/images/{imageId}/{action}", body ?? new { });

    public static async Task<string> StageAsync(this HttpClient client, Guid imageId) =>
        (await (await client.GetAsync($"/api/images/{imageId}/work")).Read<JsonElement>()).GetProperty("state").GetProperty("stage").GetString()!;

    public static Task<HttpResponseMessage> WorkflowAsync(this HttpClient owner, Guid projectId, object workflow) =>
        owner.PatchJson($"/api/projects/{projectId}", new { workflow });
}
