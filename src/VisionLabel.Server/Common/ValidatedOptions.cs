using Microsoft.Extensions.Options;

namespace VisionLabel.Server.Common;

/// <summary>
/// Binds an options class to its configuration section and checks it when the server starts
/// (<c>ValidateOnStart</c>, run before anything else by ServerHost.RunAsync): a bad setting stops the start with a
/// message naming the full key ("VisionLabel:Images:MaxPixels must be at least 1, not 0"), instead of failing later
/// in the middle of a request or a job.
/// </summary>
public static class ValidatedOptions
{
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section,
        Func<T, IEnumerable<(string Key, string Problem)>> rules) where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new SectionRules<T>(section, rules));
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    /// <summary>Runs every ValidateOnStart check now; throws <see cref="OptionsValidationException"/> listing each bad key.</summary>
    public static void ValidateNow(this IServiceProvider services) => services.GetRequiredService<IStartupValidator>().Validate();

    /// <summary>"must be at least 1, not 0" when value is below min.</summary>
    public static IEnumerable<(string, string)> AtLeast(string key, long value, long min)
    {
        if (value < min) yield return (key, $"must be at least {min}, not {value}");
    }

    public static IEnumerable<(string, string)> OneOf(string key, string? value, params string[] allowed)
    {
        if (value is null || !allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
            yield return (key, $"must be one of {string.Join(", ", allowed)}, not '{value}'");
    }

    private sealed class SectionRules<T>(string section, Func<T, IEnumerable<(string Key, string Problem)>> rules) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = rules(options).Select(p => $"{section}:{p.Key} {p.Problem}").ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
