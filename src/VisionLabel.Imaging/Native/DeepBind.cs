using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VisionLabel.Imaging.Native;

/// <summary>
/// Loads the system's libturbojpeg, libpng and libwebp with RTLD_NOW | RTLD_DEEPBIND, as early as possible, so each
/// calls its own functions. OpenCvSharpExtern (GrabCut, scissors) carries OpenCV's own libpng and libjpeg, exports
/// them, and links the system's libpng: loaded first, it binds libpng's calls inside itself (png_image_finish_read →
/// png_read_image) to OpenCV's copies, and a valid PNG fails with "invalid transformations" (a JPEG through
/// libturbojpeg could crash the process). Loaded here first, bound to themselves, they stay so: OpenCV reuses the
/// already loaded libpng. <see cref="NativeCodecs.Load"/> is called at start-up, before anything can load OpenCV.
/// </summary>
internal static partial class DeepBind
{
    private const int RtldNow = 0x2, RtldDeepBind = 0x8;
    private static readonly HashSet<string> Ours = ["libturbojpeg.so.0", "libpng16.so.16", "libwebp.so.7"];

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int mode);

    [ModuleInitializer]
    internal static void Install()
    {
        if (!OperatingSystem.IsLinux()) return;
        NativeLibrary.SetDllImportResolver(typeof(DeepBind).Assembly, Resolve);
        foreach (var name in Ours) Resolve(name, typeof(DeepBind).Assembly, null); // now, before OpenCV can be loaded
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!Ours.Contains(name)) return 0; // the runtime's own search
        try { return DlOpen(name, RtldNow | RtldDeepBind); } // 0 when not found: the runtime then searches and reports as usual
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return 0; }
    }
}

/// <summary>The image codecs' native libraries, loaded on purpose (see DeepBind): call before anything loads OpenCV.</summary>
public static class NativeCodecs
{
    /// <summary>Runs the module initializer (which loads them) if it has not run; nothing else to do.</summary>
    public static void Load() { }
}
