using VisionLabel.Server.Health;
using VisionLabel.Server.ModelLoop;
using VisionLabel.Server.ModelLoop.Predictions;
using VisionLabel.Server.Analytics;
using Microsoft.AspNetCore.SignalR;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Maintenance;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Scaleout;
using VisionLabel.Server.Storage;
using VisionLabel.Server.Web;
using VisionLabel.Server.Notifications;
using VisionLabel.Server.Work;
using VisionLabel.Server.Quality;
using VisionLabel.Server.Guidelines;
using VisionLabel.Server.Operations;
using VisionLabel.Server.Webhooks;

namespace VisionLabel.Server;

/// <summary>Builds the web application: configuration, services, endpoints. Used by `serve` and by tests.</summary>
public static class ServerHost
{
    public static WebApplication Build(string[] args)
    {
        VisionLabel.Imaging.Native.NativeCodecs.Load(); // before OpenCV can be loaded (Imaging/Native/DeepBind.cs)
        // Content root is where the binaries are, so appsettings.json is found whatever the working directory;
        // relative data paths still resolve against the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var services = builder.Services;

        // Validation problems name fields as the JSON does (camelCase) and say the first problem in the detail.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemShapes.Customize);
        services.AddValidation(); // DataAnnotations on request records (see Common/Limits.cs), checked before handlers run
        // Binding failures throw, so BadRequestProblems can say which field is wrong and why.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestProblems>();
        services.AddOpenApi(HubSchemas.Add); // hub messages too, for the web app's generated types
        services.ConfigureHttpJsonOptions(o =>
        {
            // Enums only as their documented names: an integer such as "state": 9 is refused, never stored.
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
            // Numbers only as JSON numbers (and so plain integers in the OpenAPI document, not integer-or-string).
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // A missing required field or a null where none is allowed is a 400, not a silent default.
            o.SerializerOptions.RespectRequiredConstructorParameters = true;
            o.SerializerOptions.RespectNullableAnnotations = true;
        });

        // Each area registers its own services and options (validated at start: a bad setting names its key).
        services.AddVisionLabelDatabase(builder.Configuration);
        services.AddStorage(builder.Configuration);
        services.AddImages(builder.Configuration);
        services.AddAccounts(builder.Configuration);
        services.AddProjects(builder.Configuration);
        // Hub payloads use the same JSON conventions as the HTTP API (kebab-case enum names).
        var signalR = services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = AnnotationsHub.MaxMessageBytes;
            o.AddFilter<HubAccessFilter>(); // every hub method's access rule, checked on every call
        }).AddJsonProtocol(o =>
        {
            o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
            o.PayloadSerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.PayloadSerializerOptions.RespectRequiredConstructorParameters = true;
        });
        services.AddScaleout(builder.Configuration, signalR); // several processes: Redis backplane, shared keys, the proxy's headers
        // The same JSON protocol, with binding errors that name the argument (see ExplainingJsonHubProtocol).
        services.RemoveAll<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol>();
        services.AddSingleton<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol, ExplainingJsonHubProtocol>();
        services.AddAnnotations();
        services.AddNotifications();
        services.AddWork();
        services.AddQuality();
        services.AddAnalytics();
        services.AddHealth();
        services.AddModelLoop();
        services.AddGuidelines();
        services.AddMaintenance(builder.Configuration);
        services.AddWebApp(builder.Configuration);
        // Jobs on Hangfire (pre-labeling chunks, imports, the recurring sweep), worked by this process unless RunWorkers is false.
        services.AddJobs(builder.Configuration);
        services.AddDatasets(builder.Configuration);
        services.AddInference(builder.Configuration);
        services.AddWebhooks(builder.Configuration); // events to project owners' receivers, delivered on the webhooks queue

        builder.AddOperations(); // metrics, traces, health probes, the log format
        var app = builder.Build();
        app.UseForwardedHeaders(); // first: the client's address (rate limits) and scheme (Secure cookies) behind the proxy
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBodyLimits();
        app.UseAccounts();

        app.MapOpenApi().AllowAnonymousAccess();
        app.MapGet("/health", Health).WithTags("Health").AllowAnonymousAccess(); // kept for compatibility: /health/ready is the probe
        app.MapOperations();
        app.MapAccountApi();
        app.MapOidcSignIn();
        app.MapUsersApi();
        app.MapMembersApi();
        app.MapProjectsApi();
        app.MapImagesApi();
        app.MapTilesApi();
        app.MapAnnotationsApi();
        app.MapWorkApi();
        app.MapQualityApi();
        app.MapAnalyticsApi();
        app.MapHealthApi();
        app.MapModelLoopApi();
        app.MapPredictionsApi();
        app.MapGuidelinesApi();
        app.MapNotificationsApi();
        app.MapModelsApi();
        app.MapPrelabelApi();
        app.MapJobsApi();
        app.MapDatasetsApi();
        app.MapWebhooksApi();
        app.MapJobsDashboard();
        app.MapWebApp();
        return app;
    }

    /// <summary>Runs the server until shutdown. Exit code 2 (and each problem on stderr, no stack trace) when a setting is bad.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplication app;
        // Before the database or the store is touched: a bad setting stops here, named.
        try { app = Build(args); }
        catch (Exception e) when (ValidatedOptions.ReportedSettings(e)) { return 2; }
        if (!app.Services.SettingsAreValid()) return 2;
        await app.Services.MigrateDatabaseAsync();
        await app.Services.EnsureSharedKeyAsync();
        if (app.Services.GetRequiredService<IBlobStore>() is S3BlobStore s3) await s3.ReadyAsync(); // the bucket exists before anyone uploads
        // Before serving: nothing can be mid-upload yet, and a crash's leftovers are gone before anyone looks.
        await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync();
        await app.Services.StartJobsAsync();
        await app.Services.GetRequiredService<Webhooks.Webhooks>().DispatchLeftoversAsync(TimeSpan.FromMinutes(1));
        var data = app.Services.GetRequiredService<IOptions<VisionLabelOptions>>().Value;
        var db = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        app.Logger.LogInformation("VisionLabel data directory {Data}, database {Provider}", data.ResolvedDataDirectory, db.Provider);
        await app.StartAsync();
        await PrintSetupLinkAsync(app);
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>First run: no account exists, so print the one-time link that creates the first admin (see SetupLink).</summary>
    private static async Task PrintSetupLinkAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        if (await scope.ServiceProvider.GetRequiredService<Accounts.Accounts>().AnyAsync()) return;
        string secret = app.Services.GetRequiredService<SetupLink>().Issue();
        string url = (app.Urls.FirstOrDefault() ?? "http://localhost:5080").Replace("://0.0.0.0", "://localhost").Replace("://[::]", "://localhost").TrimEnd('/');
        // Framed, after the start-up logs (libraries log warnings only by default), so it is the last thing on screen.
        const string rule = "==============================================================================";
        Console.WriteLine();
        Console.WriteLine(rule);
        Console.WriteLine($"  VisionLabel is running at {url}");
        Console.WriteLine("  No accounts yet. Create the first admin here (the link works until the first account exists):");
        Console.WriteLine();
        Console.WriteLine($"    {url}/setup?token={secret}");
        Console.WriteLine();
        Console.WriteLine("  Or headless: ./visionlabel users add NAME --admin --password-stdin");
        Console.WriteLine(rule);
        Console.WriteLine();
    }

    private static async Task<IResult> Health(VisionLabelDb db, IBlobStore blobs, IOptions<DatabaseOptions> dbOptions, IOptions<StorageOptions> storage, CancellationToken ct)
    {
        bool database = await db.Database.CanConnectAsync(ct);
        bool store = blobs is not S3BlobStore s3 || await s3.ReachableAsync(ct);
        var body = new
        {
            status = database && store ? "healthy" : "unhealthy", database = dbOptions.Value.Provider, storage = storage.Value.Provider,
            storageReachable = store, bucket = (blobs as S3BlobStore)?.Bucket,
        };
        return database && store ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: 503);
    }
}
