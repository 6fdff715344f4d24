using VisionLabel.Server.Annotations;

namespace VisionLabel.Tests;

/// <summary>The per-image gate: one piece of work at a time per image, in arrival order, and nothing kept per image afterwards.</summary>
[Trait("Tier", Tiers.Unit)]
public class ImageGatesTests
{
    [Fact]
    public async Task Work_on_one_image_waits_its_turn_and_no_gate_outlives_its_work()
    {
        var gates = new ImageGates();
        var image = Guid.NewGuid();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<int>();
        var first = gates.RunAsync(image, async () => { await release.Task; order.Add(1); return 1; });
        var second = gates.RunAsync(image, () => { order.Add(2); return Task.FromResult(2); });
        var other = await gates.RunAsync(Guid.NewGuid(), () => Task.FromResult(3)); // another image does not wait
        Assert.Equal((3, false, 1), (other, second.IsCompleted, gates.Count));
        release.SetResult();
        int[] results = await Task.WhenAll(first, second);
        Assert.Equal([1, 2], results);
        Assert.Equal([1, 2], order);

        // Thousands of images, some work failing: afterwards no gate is left (a long pre-labeling run keeps none).
        var work = Enumerable.Range(0, 5000).Select(i => gates.RunAsync(Guid.NewGuid(), async () =>
        {
            await Task.Yield();
            if (i % 7 == 0) throw new InvalidOperationException("failed work");
            return i;
        }));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Task.WhenAll(work));
        Assert.Equal(0, gates.Count);
    }
}
