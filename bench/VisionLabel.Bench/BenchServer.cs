using Microsoft.AspNetCore.Builder;
using VisionLabel.Server;

namespace VisionLabel.Bench;

/// <summary>The real server in this process on a free local port and a throwaway data folder, for browser benchmarks.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _data;
    public string Url { get; }
    public IServiceProvider Services => _app.Services;

    private BenchServer(WebApplication app, string data, string url) => (_app, _data, Url) = (app, data, url);

    public static async Task<BenchServer> StartAsync(string name)
    {
        string data = Path.Combine(Path.GetTempPath(), $"visionlabel-{name}-{Guid.NewGuid():N}");
        var listener = System.Net.Sockets.TcpListener.Create(0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        string url = $"http://127.0.0.1:{port}";
        var app = ServerHost.Build(["--urls", url, $"--VisionLabel:DataDirectory={data}", "--Logging:LogLevel:Default=Warning"]);
        await VisionLabel.Server.Data.DatabaseSetup.MigrateDatabaseAsync(app.Services);
        await app.StartAsync();
        return new BenchServer(app, data, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
