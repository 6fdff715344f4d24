using VisionLabel.Inference;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The score margin (docs/workflow.md, the queue's "lowest confidence first"): a detection's score minus the runner-up
/// class's score at the same anchor, pinned by hand on tensors laid out as each family's output.
/// </summary>
[Trait("Tier", Tiers.Unit)]
public class ScoreMarginTests
{
    private static ModelSpec Spec(ModelFamily family, int anchors, params string[] classes) => new()
    {
        Family = family, Task = ModelTask.Detect, InputName = "images", InputWidth = 32, InputHeight = 32, ClassNames = classes,
        OutputNames = ["output0"], Anchors = anchors, ClassNamesSource = "generated",
    };

    [Fact]
    public void Ultralytics_margin_is_the_score_less_the_best_other_class_at_the_anchor()
    {
        // [4 + 3 classes, 2 anchors], channel-major: rows cx, cy, w, h, then a score row per class.
        float[] output =
        [
            10, 20, /* cx */ 10, 20, /* cy */ 4, 4, /* w */ 4, 4, /* h */
            0.62f, 0.10f, /* car */
            0.58f, 0.05f, /* truck */
            0.03f, 0.90f, /* bus */
        ];
        var spec = Spec(ModelFamily.Ultralytics, 2, "car", "truck", "bus");
        var adapter = spec.Adapter;
        // Anchor 0: car 0.62, runner-up truck 0.58 → margin 0.04. Anchor 1: bus 0.90, runner-up car 0.10 → 0.80.
        Assert.Equal(0.58f, adapter.RunnerUp(output, spec, 0, 0), 6);
        Assert.Equal(0.62f - 0.58f, 0.62f - adapter.RunnerUp(output, spec, 0, 0), 6);
        Assert.Equal(0.10f, adapter.RunnerUp(output, spec, 1, 2), 6);
        // One class: no runner-up, the margin is the score.
        var single = Spec(ModelFamily.Ultralytics, 1, "thing");
        Assert.Equal(0f, single.Adapter.RunnerUp(new float[] { 1, 1, 2, 2, 0.7f }, single, 0, 0));
    }

    [Fact]
    public void Yolox_runner_up_is_objectness_times_the_second_class_probability()
    {
        // [anchors, 5 + 2 classes]: px, py, pw, ph, objectness, class probabilities.
        float[] output = [0, 0, 0, 0, 0.8f, 0.9f, 0.6f];
        var spec = Spec(ModelFamily.Yolox, 1, "cat", "dog");
        // Score of "cat" 0.8 × 0.9 = 0.72; runner-up "dog" 0.8 × 0.6 = 0.48 → margin 0.24.
        Assert.Equal(0.48f, spec.Adapter.RunnerUp(output, spec, 0, 0), 6);
        Assert.Equal(0.72f, spec.Adapter.RunnerUp(output, spec, 0, 1), 6);
    }
}
