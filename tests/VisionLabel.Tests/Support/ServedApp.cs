using System.Diagnostics;

namespace VisionLabel.Tests.Support;

/// <summary>
/// The set-up every browser test shares: the server in its own process as a user runs it (real Kestrel, a fresh data
/// folder, the built web app) and a chromium to drive it. Accounts are made on its data folder as the CLI makes them.
/// </summary>
public sealed class ServedApp : IAsyncDisposable
{
    private readonly TempDirectory _data = new();
    private readonly string[] _settings;
    private Process? _server;

    public Browser Browser { get; private set; } = null!;
    public string Url { get; } = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
    public string DataPath => _data.Path;

    private ServedApp(string[] settings) => _settings = settings;

    /// <param name="settings">Server settings, as `serve` takes them (--VisionLabel:Key=value).</param>
    public static async Task<ServedApp> StartAsync(params string[] settings)
    {
        var app = new ServedApp(settings);
        try
        {
            app.Browser = await Browser.LaunchAsync();
            app._server = await ServeCommandTests.Serve(app.Url, app.DataPath, settings);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Accounts (admins unless <paramref name="admin"/> is false) and a write token each.</summary>
    public Task<Dictionary<string, string>> TokensAsync(bool admin, params string[] users) => TestAccounts.TokensAsync(DataPath, [], admin, users);

    /// <summary>An API client of the first account, after making them all as admins (they reach every project).</summary>
    public async Task<HttpClient> AdminsAsync(params string[] users) => Client(await TestAccounts.ProvisionAsync(DataPath, [], users));

    public HttpClient Client(string token) => TestAccounts.Client(Url, token);

    /// <summary>The server process (a test may kill it, then <see cref="RestartAsync"/> it on the same data).</summary>
    public Process Server => _server!;

    public async Task RestartAsync() => _server = await ServeCommandTests.Serve(Url, DataPath, _settings);

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        if (_server is { HasExited: false }) _server.Kill(entireProcessTree: true);
        _data.Dispose();
    }
}
