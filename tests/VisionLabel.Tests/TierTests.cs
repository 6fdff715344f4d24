using System.Reflection;

namespace VisionLabel.Tests;

/// <summary>Every test class belongs to a tier, so running the tiers one by one runs every test.</summary>
[Trait("Tier", Tiers.Unit)]
public class TierTests
{
    [Fact]
    public void Every_test_class_names_a_known_tier()
    {
        var classes = typeof(TierTests).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()))
            .ToList();
        Assert.NotEmpty(classes);
        var missing = classes.Where(t => !Tier(t).Any(Tiers.All.Contains)).Select(t => t.Name).ToList();
        Assert.True(missing.Count == 0, "test classes without a Tier trait: " + string.Join(", ", missing));
    }

    private static IEnumerable<string> Tier(Type t) =>
        t.GetCustomAttributes<TraitAttribute>(inherit: true).Select(a => a.GetTraits())
            .SelectMany(traits => traits).Where(kv => kv.Key == "Tier").Select(kv => kv.Value);
}
