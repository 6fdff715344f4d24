namespace VisionLabel.Server.ModelLoop.Scissors;

public sealed record ScissorsPoint(double X, double Y);

/// <summary>POST /api/images/{imageId}/scissors: the anchor and up to <see cref="LiveWire.MaxTargets"/> targets, in image
/// pixels; each target within the window (<see cref="LiveWire.WindowSide"/> px) centred on the anchor.</summary>
public sealed record ScissorsRequest(ScissorsPoint? Anchor = null, IReadOnlyList<ScissorsPoint?>? Targets = null);

/// <summary>The part of the image the live-wire searched, in image pixels.</summary>
public sealed record ScissorsWindow(int X, int Y, int Width, int Height);

/// <summary>One path per target, from the anchor's pixel to the target's, as flat [x0, y0, x1, y1, …] pixel columns and
/// rows (a pixel's centre is +0.5), 8-connected; the window searched; how long it took.</summary>
public sealed record ScissorsResult(IReadOnlyList<int[]> Paths, ScissorsWindow Window, double Ms);
