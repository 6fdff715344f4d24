using VisionLabel.Bench;

// GpuProof --shared DIR [--device cuda|cpu] [--batches 1,8,32] [--repeat 8] [--seconds 5] --out FILE.json
// See GpuProof.cs and bench/gpu/README.md.
string Get(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
if (args.Contains("--help") || Get("--shared", "") is "" || Get("--out", "") is "")
{
    Console.Error.WriteLine("usage: GpuProof --shared DIR --out FILE.json [--device cuda|cpu] [--batches 1,8,32] [--repeat 8] [--seconds 5]");
    return 2;
}
return await GpuProof.RunAsync(new GpuProofArgs(
    Path.GetFullPath(Get("--shared", "")), Get("--device", "cuda"),
    double.Parse(Get("--seconds", "5"), System.Globalization.CultureInfo.InvariantCulture)),
    Get("--out", ""), Get("--batches", "1,8,32").Split(',').Select(int.Parse).ToArray(), int.Parse(Get("--repeat", "8")));
