using System.Diagnostics;

namespace VisionLabel.Tests.Support;

/// <summary>
/// Several server processes as a team runs them: one PostgreSQL database, one bucket on the S3 server, one Redis
/// (a key prefix of their own), each process its own port, and nginx in front (round-robin, WebSockets, no
/// stickiness). Processes can be killed (-9) and started again. Skips unless tests/run provided PostgreSQL, S3,
/// Redis and nginx.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly PostgresDatabase _database;
    private readonly TempDirectory _work = new();
    private readonly string _nginx;
    private Process? _proxy;

    public string Url { get; }
    public string[] ServerUrls { get; }
    public Process?[] Servers { get; }
    public string[] Settings { get; }

    private Cluster(PostgresDatabase database, string redis, string nginx, int servers, string[] extra)
    {
        _database = database;
        _nginx = nginx;
        var s3 = S3Server.RequireBucket();
        Settings = [
            "--VisionLabel:Database:Provider=postgres", $"--VisionLabel:Database:ConnectionString={database.ConnectionString}",
            .. S3Server.Settings(s3).Select(kv => $"--{kv.Key}={kv.Value}"),
            $"--VisionLabel:Redis:Configuration={redis}", $"--VisionLabel:Redis:ChannelPrefix=vl-{Guid.NewGuid():N}",
            "--VisionLabel:Jobs:InvisibilityTimeout=00:00:05", "--VisionLabel:Jobs:PollInterval=00:00:00.200", "--VisionLabel:Inference:Device=cpu",
            .. extra];
        Url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        ServerUrls = Enumerable.Range(0, servers).Select(_ => $"http://127.0.0.1:{ServeCommandTests.FreePort()}").ToArray();
        Servers = new Process?[servers];
        SetupLinks = Enumerable.Range(0, servers).Select(_ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
    }

    /// <summary>The setup link each server printed at its first start (while there were no accounts).</summary>
    public TaskCompletionSource<string>[] SetupLinks { get; }

    /// <summary>The secret of the setup link server <paramref name="i"/> printed (waits for it).</summary>
    public async Task<string> SetupSecretAsync(int i)
    {
        string link = await SetupLinks[i].Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..];
    }

    public static Task<Cluster> StartAsync(int servers = 2, params string[] extra) => StartAsync(servers, together: false, extra);

    /// <param name="together">Start every process at the same moment on the empty database (as docker compose does),
    /// instead of the first alone (it migrates) and then the rest.</param>
    public static async Task<Cluster> StartAsync(int servers, bool together, params string[] extra)
    {
        string? redis = Environment.GetEnvironmentVariable("VISIONLABEL_TEST_REDIS");
        string? nginx = Environment.GetEnvironmentVariable("VISIONLABEL_TEST_NGINX");
        if (string.IsNullOrWhiteSpace(redis) || string.IsNullOrWhiteSpace(nginx))
            Requirement.Missing("needs Redis and nginx: set VISIONLABEL_TEST_REDIS=host:port and VISIONLABEL_TEST_NGINX=/usr/sbin/nginx (tests/run provides both)");
        var cluster = new Cluster(PostgresDatabase.Require(), redis!, nginx!, servers, extra);
        try
        {
            // The first process migrates the database; then the others join it (or all at once).
            if (together) await Task.WhenAll(Enumerable.Range(0, servers).Select(cluster.StartServerAsync));
            else
            {
                await cluster.StartServerAsync(0);
                await Task.WhenAll(Enumerable.Range(1, servers - 1).Select(cluster.StartServerAsync));
            }
            await cluster.StartProxyAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync(); // a process that did start is not left running after the run
            throw;
        }
    }

    private string DataOf(int i) => Path.Combine(_work.Path, $"server{i}");

    public async Task StartServerAsync(int i)
    {
        Directory.CreateDirectory(DataOf(i));
        var link = SetupLinks[i];
        Servers[i] = await ServeCommandTests.Serve(ServerUrls[i], DataOf(i), line => { if (line.Contains("/setup?token=")) link.TrySetResult(line.Trim()); }, Settings);
    }

    /// <summary>kill -9: no shutdown, no goodbye to Redis or the database.</summary>
    public void Kill(int i)
    {
        Servers[i]!.Kill(entireProcessTree: true);
        Servers[i]!.WaitForExit();
        Servers[i] = null;
    }

    /// <summary>Admin accounts in the cluster's database and a token each (made as the CLI makes them).</summary>
    public Task<Dictionary<string, string>> TokensAsync(params string[] users) => TestAccounts.TokensAsync(Path.Combine(_work.Path, "cli"), Settings, true, users);

    /// <summary>A non-admin account in the cluster's database and a token for it.</summary>
    public Task<string> MemberTokenAsync(string user) => TestAccounts.TokenAsync(Path.Combine(_work.Path, "cli"), Settings, user, admin: false);

    /// <summary>Which server (host:port) nginx sent each WebSocket connection to /hubs to, from its access log.</summary>
    public IReadOnlyList<string> HubUpstreams() =>
        File.Exists(Path.Combine(_work.Path, "nginx", "logs", "hubs.log"))
            ? File.ReadAllLines(Path.Combine(_work.Path, "nginx", "logs", "hubs.log")).Where(l => l.StartsWith("/hubs/", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToList()
            : [];

    private async Task StartProxyAsync()
    {
        string prefix = Path.Combine(_work.Path, "nginx");
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        string upstreams = string.Join("\n", ServerUrls.Select(u => $"    server {new Uri(u).Authority} max_fails=1 fail_timeout=2s;"));
        // One worker, so round-robin strictly alternates; a dead upstream is skipped and its requests retried on the next.
        File.WriteAllText(Path.Combine(prefix, "nginx.conf"), $$"""
            worker_processes 1;
            error_log {{prefix}}/logs/error.log warn;
            pid {{prefix}}/nginx.pid;
            events { worker_connections 4096; }
            http {
              log_format hubs '$uri $upstream_addr';
              access_log {{prefix}}/logs/hubs.log hubs;
              client_body_temp_path {{prefix}}/body; proxy_temp_path {{prefix}}/proxy;
              fastcgi_temp_path {{prefix}}/fastcgi; uwsgi_temp_path {{prefix}}/uwsgi; scgi_temp_path {{prefix}}/scgi;
              client_max_body_size 0;
              map $http_upgrade $connection_upgrade { default upgrade; '' close; }
              upstream visionlabel {
            {{upstreams}}
              }
              server {
                listen {{new Uri(Url).Port}};
                location / {
                  proxy_pass http://visionlabel;
                  proxy_http_version 1.1;
                  proxy_set_header Upgrade $http_upgrade;
                  proxy_set_header Connection $connection_upgrade;
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                  proxy_set_header X-Forwarded-Proto $scheme;
                  proxy_read_timeout 1h;
                  proxy_buffering off;
                  proxy_request_buffering off;
                  proxy_next_upstream error timeout http_502;
                  proxy_connect_timeout 2s;
                }
              }
            }
            """);
        _proxy = Process.Start(new ProcessStartInfo(_nginx, ["-p", prefix, "-c", Path.Combine(prefix, "nginx.conf"), "-g", "daemon off;"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        })!;
        _proxy.BeginErrorReadLine();
        _proxy.BeginOutputReadLine();
        using var http = new HttpClient { BaseAddress = new Uri(Url) };
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            Assert.False(_proxy.HasExited, $"nginx exited: {(File.Exists(Path.Combine(prefix, "logs", "error.log")) ? File.ReadAllText(Path.Combine(prefix, "logs", "error.log")) : "")}");
            try { if ((await http.GetAsync("/health")).IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
        }
        throw new TimeoutException("nginx did not answer within 20 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is { HasExited: false }) _proxy.Kill(entireProcessTree: true);
        foreach (var server in Servers)
            if (server is { HasExited: false }) server.Kill(entireProcessTree: true);
        await Task.Yield();
        _database.Dispose();
        _work.Dispose();
    }
}
