using VisionLabel.Inference;
using VisionLabel.Server.Common;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.Inference;

/// <summary>Models (upload, the loaded-model cache) and pre-labeling jobs.</summary>
public static class InferenceSetup
{
    public static IServiceCollection AddInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<InferenceOptions>(configuration, InferenceOptions.Section, o =>
            ValidatedOptions.AtLeast("CpuThreadsPerRun", o.CpuThreadsPerRun, 1)
                .Concat(ValidatedOptions.AtLeast("CpuConcurrentRuns", o.CpuConcurrentRuns, 0))
                .Concat(ValidatedOptions.AtLeast("CudaDeviceId", o.CudaDeviceId, 0)));
        services.AddOptions<ModelCacheOptions>().Bind(configuration.GetSection(ModelCacheOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DetectorCache>();
        services.AddHostedService(sp => sp.GetRequiredService<DetectorCache>());
        services.AddSingleton<IJobHandler, PrelabelJob>();
        return services;
    }
}
