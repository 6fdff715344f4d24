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

    /// <summary>Path of libonnxruntime_providers_cuda.so; default: beside the ONNX Runtime library.</summary>
    public string? CudaProviderPath { get; set; }

    /// <summary>
    /// Intra-op threads per session run on CPU. Measured on 2 cores: several 1-thread runs in parallel beat one
    /// run on all cores (see docs/benchmarks.md), so the default is 1 and parallelism comes from concurrent runs.
    /// </summary>
    public int CpuThreadsPerRun { get; set; } = 1;

    /// <summary>Concurrent session runs on CPU; 0 = one per core.</summary>
    public int CpuConcurrentRuns { get; set; }
}

/// <summary>Creates sessions on the chosen device. CUDA problems never break CPU inference: they are logged and CPU is used.</summary>
public sealed class InferenceDevice
{
    private const string CudaEpName = "CUDAExecutionProvider";
    private static readonly Lock RegisterLock = new();
    private static bool _cudaRegistered;
    private static string? _cudaUnavailable;

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
            string? why = TryCudaDevice(out var device);
            if (device is not null)
            {
                try
                {
                    using var cudaOptions = BaseOptions(threads: 1);
                    cudaOptions.AppendExecutionProvider(OrtEnv.Instance(), [device], new Dictionary<string, string>());
                    var session = new InferenceSession(model, cudaOptions);
                    _log.LogInformation("Model loaded on CUDA ({Device})", device.EpName);
                    return (session, true);
                }
                catch (OnnxRuntimeException e) { why = "CUDA session could not be created: " + e.Message; }
            }
            if (_options.Device == DeviceChoice.Cuda)
                throw new InvalidOperationException($"device 'cuda' was requested but CUDA is not usable: {why}");
            _log.LogInformation("Using CPU inference: {Reason}", why);
        }
        using var cpuOptions = BaseOptions(_options.CpuThreadsPerRun);
        return (new InferenceSession(model, cpuOptions), false);
    }

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

    /// <summary>Registers the CUDA provider library once per process and finds a CUDA device; returns why not when it fails.</summary>
    private string? TryCudaDevice(out OrtEpDevice? device)
    {
        device = null;
        lock (RegisterLock)
        {
            if (_cudaUnavailable is not null) return _cudaUnavailable;
            if (!_cudaRegistered)
            {
                string path = _options.CudaProviderPath ?? Path.Combine(AppContext.BaseDirectory, "libonnxruntime_providers_cuda.so");
                if (!File.Exists(path))
                    return _cudaUnavailable = $"no CUDA provider library at {path} (build with -p:VisionLabelCuda=true or set VisionLabel:Inference:CudaProviderPath)";
                try
                {
                    OrtEnv.Instance().RegisterExecutionProviderLibrary(CudaEpName, path);
                    _cudaRegistered = true;
                }
                catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
                {
                    return _cudaUnavailable = $"the CUDA provider did not load ({e.Message}); CUDA 13 and cuDNN 9 libraries must be on the library path";
                }
            }
            device = OrtEnv.Instance().GetEpDevices().FirstOrDefault(d => d.EpName == CudaEpName);
            return device is null ? _cudaUnavailable = "the CUDA provider loaded but found no GPU" : null;
        }
    }
}
