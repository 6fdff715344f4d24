using VisionLabel.Server.Data;

namespace VisionLabel.Server.Common;

/// <summary>What the CLI verbs other than serve share: the same data directory and configuration as serve, no job workers,
/// logs on stderr (stdout carries what a script reads), errors said as "error: …" with exit code 1.</summary>
public static class CommandHost
{
    public static string[] Args(string? data, IReadOnlyList<string> extra)
    {
        var args = new List<string> { "--VisionLabel:Jobs:RunWorkers=false", "--Logging:LogLevel:Default=Warning", "--Logging:Console:LogToStandardErrorThreshold=Trace" };
        if (data is not null) args.Add($"--VisionLabel:DataDirectory={data}");
        args.AddRange(extra);
        return args.ToArray();
    }

    public static async Task<WebApplication> OpenAsync(string[] hostArgs)
    {
        WebApplication app;
        // Bad settings are said on stderr, key by key, as serve says them.
        try { app = ServerHost.Build(hostArgs); }
        catch (Exception e) when (ValidatedOptions.ReportedSettings(e)) { Environment.Exit(2); throw; }
        if (!app.Services.SettingsAreValid()) Environment.Exit(2);
        await app.Services.MigrateDatabaseAsync();
        return app;
    }

    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
