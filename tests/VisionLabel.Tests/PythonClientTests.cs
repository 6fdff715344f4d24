using System.Diagnostics;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The Python client (clients/python, issue 27): installable with pip (into a folder of its own, no network: standard
/// library only), and its unittest suite run against the server as a user runs it (its own process, real Kestrel) with
/// an owner's token — so `./visionlabel test` runs the client's tests and counts them here.
/// </summary>
[Trait("Tier", Tiers.System)]
public class PythonClientTests(ITestOutputHelper output)
{
    private static string ClientFolder => Path.Combine(SharedData.RepositoryRoot, "clients", "python");

    private static async Task<(int Exit, string Output)> RunAsync(string exe, IEnumerable<string> args, Dictionary<string, string> env)
    {
        var start = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = ClientFolder };
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task The_client_installs_with_pip_and_its_unittest_suite_passes_against_a_live_server()
    {
        if ((await RunAsync("python3", ["-m", "pip", "--version"], [])).Exit != 0)
            Requirement.Missing("needs python3 with pip (deploy/install-deps.sh test installs them)");
        SharedData.Require("models/yolov8n-det-int8-640.onnx");
        using var data = new TempDirectory();

        // pip builds and installs it from the folder with no package index (its build backend is in the folder).
        string site = Path.Combine(data.Path, "site");
        var install = await RunAsync("python3", ["-m", "pip", "install", "--no-index", "--target", site, "."], []);
        Assert.True(install.Exit == 0, install.Output);
        Assert.True(File.Exists(Path.Combine(site, "visionlabel", "client.py")), "pip put the package in place");

        string url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        string served = Path.Combine(data.Path, "server");
        Directory.CreateDirectory(served);
        using var server = await ServeCommandTests.Serve(url, served, "--VisionLabel:Jobs:PollInterval=00:00:00.200");
        try
        {
            var tokens = await TestAccounts.TokensAsync(served, [], false, "olga");
            // The installed copy is what runs (PYTHONPATH is the pip target), the tests from the checkout.
            var run = await RunAsync("python3", ["-m", "unittest", "discover", "-s", "tests", "-v"], new()
            {
                ["PYTHONPATH"] = site, ["VISIONLABEL_URL"] = url, ["VISIONLABEL_TOKEN"] = tokens["olga"], ["VISIONLABEL_SHARED"] = SharedData.Root,
            });
            output.WriteLine(run.Output);
            Assert.True(run.Exit == 0, run.Output);
            Assert.Matches(@"Ran [1-9]\d* tests?", run.Output);
            Assert.DoesNotContain("skipped", run.Output);
        }
        finally { server.Kill(entireProcessTree: true); }
    }
}
