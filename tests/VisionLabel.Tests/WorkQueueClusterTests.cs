using System.Collections.Concurrent;
using System.Text.Json;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The pull queue across two server processes on one PostgreSQL database: annotators and reviewers pulling at once,
/// each talking to one process (alternating), must never be handed one image at the same time.
/// </summary>
[Trait("Tier", Tiers.System)]
public class WorkQueueClusterTests
{
    [Fact]
    public async Task Five_annotators_and_two_reviewers_on_two_processes_take_every_image_exactly_once()
    {
        await using var cluster = await Cluster.StartAsync();
        var tokens = await cluster.TokensAsync("setup");
        using var owner = TestAccounts.Client(cluster.Url, tokens["setup"]);
        var project = await (await owner.PostJson("/api/projects", new { name = "queue-cluster", labels = new[] { new { name = "a" } } })).Read<ProjectDto>();
        var images = await owner.UploadImagesAsync(project.Id, 200);

        var annotators = Enumerable.Range(0, 5).Select(i => $"annotator{i}").ToArray();
        var reviewers = new[] { "reviewer0", "reviewer1" };
        var clients = new Dictionary<string, HttpClient>();
        int n = 0;
        foreach (var user in annotators.Concat(reviewers))
        {
            string token = await cluster.MemberTokenAsync(user);
            (await owner.PostJson($"/api/projects/{project.Id}/members", new { user, role = user.StartsWith("reviewer") ? "reviewer" : "annotator" })).EnsureSuccessStatusCode();
            clients[user] = TestAccounts.Client(cluster.ServerUrls[n++ % cluster.ServerUrls.Length], token); // half on each process
        }

        var leased = new ConcurrentQueue<(Guid Image, string User)>();
        var reviewed = new ConcurrentQueue<(Guid Image, string User)>();
        int submitted = 0;
        var annotating = Task.WhenAll(annotators.Select(user => Task.Run(async () =>
        {
            var client = clients[user];
            while (await client.NextIdAsync(project.Id) is { } id)
            {
                leased.Enqueue((id, user));
                (await client.WorkAsync(id, "submit")).EnsureSuccessStatusCode();
                Interlocked.Increment(ref submitted);
            }
            Assert.Null(await client.NextIdAsync(project.Id)); // 204, and again
        })));
        // Reviewers approve while annotators still submit; each stops once all 200 are in and nothing is left for it.
        var reviewing = Task.WhenAll(reviewers.Select(user => Task.Run(async () =>
        {
            var client = clients[user];
            while (true)
            {
                bool allIn = Volatile.Read(ref submitted) == images.Count;
                if (await client.NextIdAsync(project.Id, "review") is { } id)
                {
                    reviewed.Enqueue((id, user));
                    (await client.WorkAsync(id, "approve")).EnsureSuccessStatusCode();
                }
                else if (allIn) break;
                else await Task.Delay(20); // nothing waits for this reviewer yet: ask again shortly (the queue pushes nothing)
            }
        })));
        await annotating;
        await reviewing;

        // Every image leased once for annotating and once for review, submitted once, approved once.
        Assert.Equal(images.Order(), leased.Select(l => l.Image).Order());
        Assert.Equal(images.Order(), reviewed.Select(r => r.Image).Order());
        Assert.Equal(200, submitted);
        Assert.All(annotators, a => Assert.Contains(leased, l => l.User == a)); // all five took part
        var overview = await (await owner.GetAsync($"/api/projects/{project.Id}/work")).Read<JsonElement>();
        Assert.Equal(200, overview.GetProperty("counts").GetProperty("approved").GetInt32());
        foreach (var id in images.Where((_, i) => i % 20 == 0))
        {
            var history = (await (await owner.GetAsync($"/api/images/{id}/work")).Read<JsonElement>()).GetProperty("history").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
            Assert.Equal(["leased", "submitted", "leased", "approved"], history);
        }
        foreach (var client in clients.Values) client.Dispose();
    }
}
