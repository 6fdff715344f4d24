using System.Runtime.CompilerServices;

namespace VisionLabel.Tests.Support;

/// <summary>The image codecs' native libraries are loaded before any test can load OpenCV (src/VisionLabel.Imaging/Native/DeepBind.cs).</summary>
internal static class NativeLoadOrder
{
    [ModuleInitializer]
    internal static void Load() => VisionLabel.Imaging.Native.NativeCodecs.Load();
}
