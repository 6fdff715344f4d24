namespace VisionLabel.Server.Maintenance;

public static class MaintenanceSetup
{
    public static IServiceCollection AddMaintenance(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MaintenanceOptions>().Bind(configuration.GetSection(MaintenanceOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MaintenanceSweeper>();
        return services;
    }
}
