using System.CommandLine;
using VisionLabel.Server;
using VisionLabel.Server.Inference;

// `visionlabel VERB …`. With no verb (or host-style arguments, as the test host passes) it serves, so
// `dotnet VisionLabel.Server.dll --urls …` also works.
if (args.Length == 0 || args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?"))
{
    return await ServerHost.RunAsync(args);
}

var urls = new Option<string?>("--urls") { Description = "Addresses to listen on, e.g. http://0.0.0.0:5080 (default http://localhost:5080)" };
var data = new Option<string?>("--data") { Description = "Data directory for the embedded database, blobs and temp files (default ./data)" };
var serve = new Command("serve", "Run the VisionLabel server") { urls, data };
serve.TreatUnmatchedTokensAsErrors = false; // pass anything else (e.g. --VisionLabel:Database:Provider=postgres) to configuration
serve.SetAction(async (parse, ct) =>
{
    var hostArgs = new List<string> { "--urls", parse.GetValue(urls) ?? "http://localhost:5080" };
    if (parse.GetValue(data) is { } dir) hostArgs.Add($"--VisionLabel:DataDirectory={dir}");
    hostArgs.AddRange(parse.UnmatchedTokens);
    return await ServerHost.RunAsync(hostArgs.ToArray());
});

var root = new RootCommand("VisionLabel: computer-vision annotation server") { serve, PrelabelCommand.Create(), VisionLabel.Server.Web.OpenApiCommand.Create() };
foreach (var command in VisionLabel.Server.Datasets.DatasetCommands.Create()) root.Subcommands.Add(command);
foreach (var command in VisionLabel.Server.Accounts.AccountCommands.Create()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();

public partial class Program;
