using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace VisionLabel.Server.Web;

/// <summary>
/// `visionlabel openapi --out web/openapi.json`: the server's OpenAPI document, as /openapi/v1.json serves it, for the
/// web app's generated API types (web: `npm run gen-api`). A test fails when the committed copy is out of date.
/// </summary>
public static class OpenApiCommand
{
    /// <summary>The document without its "servers" (the address it was read from), indented, with a final newline: the same bytes every time.</summary>
    public static string Normalize(string document)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(document)!.AsObject();
        json.Remove("servers");
        return json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";
    }

    public static Command Create()
    {
        var output = new Option<FileInfo>("--out") { Description = "File to write the document to", Required = true };
        var command = new Command("openapi", "Write the server's OpenAPI document (for generated API clients)") { output };
        command.SetAction(async (parse, ct) =>
        {
            string data = Path.Combine(Path.GetTempPath(), "visionlabel-openapi-" + Guid.NewGuid().ToString("N"));
            var app = ServerHost.Build(["--urls", "http://127.0.0.1:0", $"--VisionLabel:DataDirectory={data}", "--VisionLabel:Jobs:RunWorkers=false",
                // A throwaway server that is never migrated: the key ring's "no such table" is expected, not news.
                "--Logging:LogLevel:Default=Critical", "--Logging:LogLevel:VisionLabel=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning"]);
            await app.StartAsync(ct);
            try
            {
                string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                using var http = new HttpClient { BaseAddress = new Uri(address) };
                string document = Normalize(await http.GetStringAsync("/openapi/v1.json", ct));
                var file = parse.GetValue(output)!;
                file.Directory?.Create();
                await File.WriteAllTextAsync(file.FullName, document, ct);
                Console.Error.WriteLine($"wrote {file.FullName}");
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
                try { Directory.Delete(data, recursive: true); } catch (IOException) { }
            }
            return 0;
        });
        return command;
    }
}
