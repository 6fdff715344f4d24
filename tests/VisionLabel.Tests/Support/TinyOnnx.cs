using System.Text;

namespace VisionLabel.Tests.Support;

/// <summary>
/// Writes minimal ONNX models (protobuf by hand) for tests of model recognition: one Identity node from
/// input "images" to output "out" with the given shapes. No third-party model files needed.
/// </summary>
public static class TinyOnnx
{
    public static byte[] Identity(long[] shape)
    {
        var graph = new MemoryStream();
        // NodeProto: input(1), output(2), op_type(4)
        Field(graph, 1, Message(w => { String(w, 1, "images"); String(w, 2, "out"); String(w, 4, "Identity"); }));
        String(graph, 2, "tiny");
        Field(graph, 11, ValueInfo("images", shape)); // input
        Field(graph, 12, ValueInfo("out", shape));    // output

        var model = new MemoryStream();
        Varint(model, 1 << 3, 8);                      // ir_version = 8
        Field(model, 7, graph.ToArray());              // graph
        Field(model, 8, Message(w => Varint(w, 2 << 3, 13))); // opset_import { version: 13 }
        return model.ToArray();
    }

    private static byte[] ValueInfo(string name, long[] shape) => Message(w =>
    {
        String(w, 1, name);
        // TypeProto { tensor_type(1) { elem_type(1) = FLOAT(1), shape(2) { dim(1) { dim_value(1) } } } }
        Field(w, 2, Message(t => Field(t, 1, Message(tt =>
        {
            Varint(tt, 1 << 3, 1);
            Field(tt, 2, Message(s => { foreach (var d in shape) Field(s, 1, Message(dim => Varint(dim, 1 << 3, d))); }));
        }))));
    });

    private static byte[] Message(Action<Stream> write)
    {
        var ms = new MemoryStream();
        write(ms);
        return ms.ToArray();
    }

    private static void String(Stream s, int field, string value) => Field(s, field, Encoding.UTF8.GetBytes(value));

    private static void Field(Stream s, int field, byte[] bytes)
    {
        WriteVarint(s, (ulong)(field << 3 | 2));
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void Varint(Stream s, int key, long value)
    {
        WriteVarint(s, (ulong)key);
        WriteVarint(s, (ulong)value);
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }
}
