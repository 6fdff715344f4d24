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

    /// <summary>Runs every check; on bad settings says so on stderr (<see cref="ReportedSettings"/>) and returns false.</summary>
    public static bool SettingsAreValid(this IServiceProvider services)
    {
        try { services.ValidateNow(); return true; }
        catch (Exception e) when (ReportedSettings(e)) { return false; }
    }

    /// <summary>
    /// Whether <paramref name="e"/> is about bad settings, in which case one line per key went to stderr under what to
    /// do. (One options class's problems come as one exception, several classes' as an AggregateException of them;
    /// a setting read while the host is built fails there, before the start-up check.)
    /// </summary>
    public static bool ReportedSettings(Exception e)
    {
        if (!(e is OptionsValidationException || e is AggregateException a && a.InnerExceptions.All(i => i is OptionsValidationException))) return false;
        var failures = (e is AggregateException all ? all.InnerExceptions : [e]).Cast<OptionsValidationException>().SelectMany(v => v.Failures);
        Console.Error.WriteLine("VisionLabel cannot start; fix these settings (appsettings.json, --Key=value or VisionLabel__Key environment variables):");
        foreach (var failure in failures) Console.Error.WriteLine("  " + failure);
        return true;
    }

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
