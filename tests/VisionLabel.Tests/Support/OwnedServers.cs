using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VisionLabel.Tests.Support;

/// <summary>
/// A PostgreSQL cluster of one test's own (initdb into a temp folder, pg_ctl on a free port), which the test may stop
/// and start again — the shared test cluster cannot be stopped under the other tests. As root (CI), the cluster runs as
/// the postgres user, as tests/run does it.
/// </summary>
public sealed class OwnedPostgres : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly string _bin;
    public int Port { get; } = OwnedServers.FreePort();
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3";

    private string Data => Path.Combine(_folder.Path, "data");

    private OwnedPostgres(string bin) => _bin = bin;

    public static OwnedPostgres Start()
    {
        string? bin = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderBy(d => d, StringComparer.Ordinal).LastOrDefault() : null;
        if (bin is null) Requirement.Missing("needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin; deploy/install-deps.sh test installs them)");
        var pg = new OwnedPostgres(bin);
        if (Environment.UserName == "root") OwnedServers.Run("chown", "-R", "postgres", pg._folder.Path);
        pg.AsPostgres("initdb", "-D", pg.Data, "-A", "trust", "--no-sync", "-U", "postgres");
        pg.Resume();
        return pg;
    }

    /// <summary>Stops the server (fast: open connections are closed).</summary>
    public void Stop() => AsPostgres("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");

    public void Resume() => AsPostgres("pg_ctl", "-D", Data, "-w", "-t", "60", "-l", Path.Combine(_folder.Path, "server.log"), "start",
        "-o", $"-p {Port} -k {_folder.Path} -c listen_addresses=127.0.0.1 -c fsync=off");

    private void AsPostgres(string tool, params string[] args)
    {
        string exe = Path.Combine(_bin, tool);
        if (Environment.UserName == "root") OwnedServers.Run("runuser", ["-u", "postgres", "--", exe, .. args]);
        else OwnedServers.Run(exe, args);
    }

    public void Dispose()
    {
        try { AsPostgres("pg_ctl", "-D", Data, "-m", "immediate", "stop"); } catch (InvalidOperationException) { } // already stopped
        _folder.Dispose();
    }
}

/// <summary>The test S3 server (tests/s3-server, s3rver) as a process of one test's own, stopped and started on the same port and folder.</summary>
public sealed class OwnedS3Server : IDisposable
{
    private readonly TempDirectory _folder = new();
    private Process? _process;
    public int Port { get; } = OwnedServers.FreePort();
    public string Endpoint => $"127.0.0.1:{Port}";

    public static OwnedS3Server Start()
    {
        string script = Path.Combine(SharedData.RepositoryRoot, "tests", "s3-server", "server.js");
        if (!Directory.Exists(Path.Combine(SharedData.RepositoryRoot, "tests", "s3-server", "node_modules", "s3rver")))
            Requirement.Missing("needs tests/s3-server's node_modules (tests/run installs them)");
        var server = new OwnedS3Server();
        server.Resume();
        return server;
    }

    public void Resume()
    {
        var start = new ProcessStartInfo("node", [Path.Combine(SharedData.RepositoryRoot, "tests", "s3-server", "server.js"), "--port", Port.ToString(), "--directory", _folder.Path])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        // It prints "ready" once it listens.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_process.StandardOutput.ReadLine() is { } line && !line.Contains("ready"))
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("the S3 test server did not start");
        if (_process.HasExited) throw new InvalidOperationException($"the S3 test server exited ({_process.ExitCode})");
        _ = _process.StandardOutput.ReadToEndAsync(); // keep draining
    }

    public void Stop()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Stop();
        _folder.Dispose();
    }
}

internal static class OwnedServers
{
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static void Run(string exe, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} exited {process.ExitCode}: {error}{output.Result}");
    }
}
