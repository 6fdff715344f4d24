using VisionLabel.Server.Common;

namespace VisionLabel.Server.Images;

public static class ImagesSetup
{
    public static IServiceCollection AddImages(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ImageIntakeOptions>(configuration, ImageIntakeOptions.Section, o =>
            ValidatedOptions.AtLeast("MaxPixels", o.MaxPixels, 1)
                .Concat(ValidatedOptions.AtLeast("MaxFileBytes", o.MaxFileBytes, 1))
                .Concat(ValidatedOptions.AtLeast("MaxRequestBytes", o.MaxRequestBytes, 1))
                .Concat(ValidatedOptions.AtLeast("ThumbnailSize", o.ThumbnailSize, 16))
                .Concat(ValidatedOptions.AtLeast("PyramidAbovePixels", o.PyramidAbovePixels, 1))
                .Concat(o.ThumbnailSize > 4096 ? [("ThumbnailSize", $"must be at most 4096, not {o.ThumbnailSize}")] : []));
        services.AddScoped<ImageIntake>();
        services.AddSingleton<ThumbnailService>();
        services.AddSingleton<Jobs.IJobHandler, PyramidJob>();
        return services;
    }
}
