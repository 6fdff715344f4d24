using Microsoft.AspNetCore.SignalR;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Collaboration;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Live;
using VisionLabel.Server.Maintenance;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Scaleout;
using VisionLabel.Server.Storage;
using VisionLabel.Server.Web;

namespace VisionLabel.Server;

/// <summary>Builds the web application: configuration, services, endpoints. Used by `serve` and by tests.</summary>
public static class ServerHost
{
    public static WebApplication Build(string[] args)
    {
        // Content root is where the binaries are, so appsettings.json is found whatever the working directory;
        // relative data paths still resolve against the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var services = builder.Services;

        services.Configure<VisionLabelOptions>(builder.Configuration.GetSection(VisionLabelOptions.Section));
        services.Configure<DatabaseOptions>(builder.Configuration.GetSection(DatabaseOptions.Section));
        services.Configure<StorageOptions>(builder.Configuration.GetSection(StorageOptions.Section));
        services.Configure<ImageIntakeOptions>(builder.Configuration.GetSection(ImageIntakeOptions.Section));
        services.Configure<VisionLabel.Inference.InferenceOptions>(builder.Configuration.GetSection(VisionLabel.Inference.InferenceOptions.Section));
        services.Configure<DatasetOptions>(builder.Configuration.GetSection(DatasetOptions.Section));

        // Validation problems name fields as the JSON does (camelCase) and say the first problem in the detail.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemShapes.Customize);
        services.AddValidation(); // DataAnnotations on request records (see Common/Limits.cs), checked before handlers run
        // Binding failures throw, so BadRequestProblems can say which field is wrong and why.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestProblems>();
        services.AddOpenApi();
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

        services.AddVisionLabelDatabase(builder.Configuration);
        services.AddSingleton<IBlobStore>(sp => CreateBlobStore(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IOptions<VisionLabelOptions>>().Value));
        services.AddScoped<ImageIntake>();
        services.AddSingleton<ThumbnailService>();
        // Hub payloads use the same JSON conventions as the HTTP API (kebab-case enum names).
        services.AddAccounts(builder.Configuration);
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

        // Collaboration: one sequencer orders every annotation change: hub, REST, jobs, imports, cascades.
        services.AddSingleton<ImageGates>();
        services.AddSingleton<OpBroadcaster>();
        services.AddSingleton<AnnotationSequencer>();
        services.AddSingleton<PresenceRegistry>();
        services.AddSingleton<PresenceThrottle>();
        services.AddScoped<ReviewService>();

        services.AddOptions<MaintenanceOptions>().Bind(builder.Configuration.GetSection(MaintenanceOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MaintenanceSweeper>();

        services.AddWebApp(builder.Configuration);
        services.AddScoped<DatasetImport>();
        services.AddScoped<DatasetExport>();

        // Jobs on Hangfire (pre-labeling chunks, the recurring sweep), worked by this process unless RunWorkers is false.
        services.AddJobs(builder.Configuration);
        services.AddSingleton<ProgressThrottle>();
        services.AddScoped<LiveEvents>();
        services.AddOptions<ModelCacheOptions>().Bind(builder.Configuration.GetSection(ModelCacheOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DetectorCache>();
        services.AddHostedService(sp => sp.GetRequiredService<DetectorCache>());
        services.AddSingleton<IJobHandler, PrelabelJob>();
        services.AddSingleton<IJobHandler, ImportJob>();

        var app = builder.Build();
        app.UseForwardedHeaders(); // first: the client's address (rate limits) and scheme (Secure cookies) behind the proxy
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBodyLimits();
        app.UseAccounts();

        app.MapOpenApi().AllowAnonymousAccess();
        app.MapGet("/health", Health).WithTags("Health").AllowAnonymousAccess();
        app.MapAccountApi();
        app.MapOidcSignIn();
        app.MapUsersApi();
        app.MapMembersApi();
        app.MapProjectsApi();
        app.MapImagesApi();
        app.MapAnnotationsApi();
        app.MapModelsApi();
        app.MapPrelabelApi();
        app.MapJobsApi();
        app.MapDatasetsApi();
        app.MapJobsDashboard();
        app.MapWebApp();
        // Connecting needs a signed-in caller (negotiate is a POST, but reads nothing: read tokens may connect).
        app.MapHub<LiveHub>("/hubs/live").RequireSignedIn(writes: false);
        app.MapHub<AnnotationsHub>("/hubs/annotations").RequireSignedIn(writes: false);
        return app;
    }

    public static async Task RunAsync(string[] args)
    {
        var app = Build(args);
        await app.Services.MigrateDatabaseAsync();
        await app.Services.EnsureSharedKeyAsync();
        if (app.Services.GetRequiredService<IBlobStore>() is S3BlobStore s3) await s3.ReadyAsync(); // the bucket exists before anyone uploads
        // Before serving: nothing can be mid-upload yet, and a crash's leftovers are gone before anyone looks.
        await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync();
        await app.Services.StartJobsAsync();
        var data = app.Services.GetRequiredService<IOptions<VisionLabelOptions>>().Value;
        var db = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        app.Logger.LogInformation("VisionLabel data directory {Data}, database {Provider}", data.ResolvedDataDirectory, db.Provider);
        await app.StartAsync();
        await PrintSetupLinkAsync(app);
        await app.WaitForShutdownAsync();
    }

    /// <summary>First run: no account exists, so print the one-time link that creates the first admin (see SetupLink).</summary>
    private static async Task PrintSetupLinkAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        if (await scope.ServiceProvider.GetRequiredService<Accounts.Accounts>().AnyAsync()) return;
        string secret = app.Services.GetRequiredService<SetupLink>().Issue();
        string url = (app.Urls.FirstOrDefault() ?? "http://localhost:5080").Replace("://0.0.0.0", "://localhost").Replace("://[::]", "://localhost").TrimEnd('/');
        Console.WriteLine();
        Console.WriteLine("No accounts yet. Create the first admin here (the link works until the first account exists):");
        Console.WriteLine($"    {url}/setup?token={secret}");
        Console.WriteLine("Or headless: ./visionlabel users add NAME --admin --password-stdin");
        Console.WriteLine();
    }

    private static IBlobStore CreateBlobStore(StorageOptions storage, VisionLabelOptions app) => storage.Provider.ToLowerInvariant() switch
    {
        "local" => new LocalFolderBlobStore(storage.LocalPath ?? Path.Combine(app.ResolvedDataDirectory, "blobs")),
        "s3" or "minio" => new S3BlobStore(storage.S3),
        _ => throw new InvalidOperationException($"VisionLabel:Storage:Provider '{storage.Provider}' is not known; use local or s3."),
    };

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
