using VisionLabel.Server.Common;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.Datasets;

public static class DatasetsSetup
{
    public static IServiceCollection AddDatasets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DatasetOptions>(configuration, DatasetOptions.Section, o =>
            ValidatedOptions.AtLeast("MaxExpandedBytes", o.MaxExpandedBytes, 1)
                .Concat(ValidatedOptions.AtLeast("MaxCompressionRatio", o.MaxCompressionRatio, 2))
                .Concat(ValidatedOptions.AtLeast("MaxUploadBytes", o.MaxUploadBytes, 1)));
        services.AddScoped<DatasetImport>();
        services.AddScoped<DatasetExport>();
        services.AddSingleton<IJobHandler, ImportJob>();
        return services;
    }
}
