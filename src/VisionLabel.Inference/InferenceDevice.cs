using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace VisionLabel.Inference;

public enum DeviceChoice { Auto, Cpu, Cuda }

/// <summary>Section "VisionLabel:Inference".</summary>
public sealed class InferenceOptions
{
    public const string Section = "VisionLabel:Inference";

    /// <summary>auto: CUDA when its provider loads and a GPU is found, else CPU (logging why). cpu / cuda force one.</summary>
    public DeviceChoice Device { get; set; } = DeviceChoice.Auto;

    /// <summary>Which GPU the CUDA provider uses.</summary>
    public int CudaDeviceId { get; set; }

    /// <summary>
    /// Intra-op threads per session run on CPU. Measured on 2 cores: several 1-thread runs in parallel beat one
    /// run on all cores (see docs/benchmarks.md), so the default is 1 and parallelism comes from concurrent runs.
    /// </summary>
    public int CpuThreadsPerRun { get; set; } = 1;

    /// <summary>Concurrent session runs on CPU; 0 = one per core.</summary>
    public int CpuConcurrentRuns { get; set; }
}

/// <summary>
/// Creates sessions on the chosen device with ONNX Runtime's standard CUDA registration
/// (<c>AppendExecutionProvider_CUDA</c>). The CPU package has no CUDA provider and the GPU package's provider needs
/// CUDA 13 and cuDNN 9 on the library path; either way CUDA problems never break CPU inference: under <c>auto</c>
/// they are logged with the reason and CPU is used, under <c>cuda</c> they are an error that says what to install.
/// </summary>
public sealed class InferenceDevice
{
    /// <summary>Whether this build references ONNX Runtime's CUDA package (-p:VisionLabelCuda=true).</summary>
#if VISIONLABEL_CUDA
    public const bool CudaBuild = true;
#else
    public const bool CudaBuild = false;
#endif

    /// <summary>Why the CPU build never tries CUDA (its package has no CUDA provider: probing it only produced a
    /// misleading "CUDA libraries missing" message).</summary>
    public const string NotCudaBuild = "this is the CPU build of VisionLabel (ONNX Runtime's CPU package has no CUDA provider); " +
        "build with -p:VisionLabelCuda=true for CUDA";

    private static readonly Lock ProbeLock = new();
    // Why the provider cannot be appended in this process; it does not change while the process runs.
    private static string? _cudaUnavailable = CudaBuild ? null : NotCudaBuild;

    private readonly InferenceOptions _options;
    private readonly ILogger _log;

    public InferenceDevice(InferenceOptions options, ILogger? log = null)
    {
        _options = options;
        _log = log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    public int ConcurrentRuns(bool cuda) => cuda ? 1 : _options.CpuConcurrentRuns > 0 ? _options.CpuConcurrentRuns : Environment.ProcessorCount;

    /// <summary>Loads a model on the configured device. Returns the session and whether it runs on CUDA.</summary>
    public (InferenceSession Session, bool OnCuda) Load(byte[] model)
    {
        if (_options.Device != DeviceChoice.Cpu)
        {
            string? why;
            lock (ProbeLock) why = _cudaUnavailable;
            if (why is null)
            {
                var cudaOptions = BaseOptions(threads: 1);
                try
                {
                    try { cudaOptions.AppendExecutionProvider_CUDA(_options.CudaDeviceId); }
                    catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
                    {
                        why = ProviderProblem(e.Message);
                        lock (ProbeLock) _cudaUnavailable = why;
                    }
                    if (why is null)
                    {
                        try
                        {
                            var session = new InferenceSession(model, cudaOptions);
                            _log.LogInformation("Model loaded on CUDA device {Device}", _options.CudaDeviceId);
                            return (session, true);
                        }
                        // Not remembered: the next model may load (this one may use an operator CUDA lacks).
                        catch (OnnxRuntimeException e) { why = "the CUDA session could not be created: " + e.Message; }
                    }
                }
                finally { cudaOptions.Dispose(); }
            }
            if (_options.Device == DeviceChoice.Cuda)
                throw new InvalidOperationException($"device 'cuda' was requested but CUDA is not usable: {why}");
            _log.LogInformation("Using CPU inference: {Reason}", why);
        }
        using var cpuOptions = BaseOptions(_options.CpuThreadsPerRun);
        return (new InferenceSession(model, cpuOptions), false);
    }

    private static string ProviderProblem(string message) =>
        message.Contains("not enabled", StringComparison.OrdinalIgnoreCase) || message.Contains("not available", StringComparison.OrdinalIgnoreCase)
            ? $"this build uses the CPU package of ONNX Runtime (build with -p:VisionLabelCuda=true for CUDA): {message}"
            : $"the CUDA provider did not load ({message}); CUDA 13 (libcudart, libcublas, libcublasLt, libcurand) and cuDNN 9 must be on the library path";

    private static SessionOptions BaseOptions(int threads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        // Spinning threads steal the core from the decode workers and from the neighbouring run.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        return options;
    }
}
