namespace VisionLabel.Tests.Support;

/// <summary>
/// The test tiers, as the "Tier" trait on every test class (`./visionlabel test --tier api` runs one alone):
/// unit — library code in process, no server; api — the server in process (SQLite, a local folder) through HTTP and
/// hubs; system — real outside processes and services (PostgreSQL, the S3 server, Redis, nginx, server and CLI
/// processes); browser — chromium driving the built web app. A browser test in a system class carries both.
/// </summary>
public static class Tiers
{
    public const string Unit = "unit", Api = "api", System = "system", Browser = "browser";
    public static readonly string[] All = [Unit, Api, System, Browser];
}
