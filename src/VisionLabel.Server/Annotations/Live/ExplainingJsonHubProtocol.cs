using System.Buffers;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// SignalR's JSON hub protocol, with one change: when a call's arguments cannot be bound, the error names the
/// method, the argument and what is wrong with it ("Submit: argument 'op': changes… must be …") instead of
/// SignalR's generic "an error on the server". The frame is re-read only on that failure path.
/// </summary>
public sealed class ExplainingJsonHubProtocol(IOptions<JsonHubProtocolOptions> options) : IHubProtocol
{
    private readonly JsonHubProtocol _inner = new(options);
    private readonly JsonSerializerOptions _json = options.Value.PayloadSerializerOptions;

    public string Name => _inner.Name;
    public int Version => _inner.Version;
    public TransferFormat TransferFormat => _inner.TransferFormat;
    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);
    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);
    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, out HubMessage? message)
    {
        var before = input;
        if (!_inner.TryParseMessage(ref input, binder, out message)) return false;
        if (message is InvocationBindingFailureMessage failure)
        {
            var frame = before.Slice(0, before.Length - input.Length);
            message = new InvocationBindingFailureMessage(failure.InvocationId, failure.Target,
                ExceptionDispatchInfo.Capture(new HubException(Explain(frame, failure, binder))));
        }
        return true;
    }

    private string Explain(ReadOnlySequence<byte> frame, InvocationBindingFailureMessage failure, IInvocationBinder binder)
    {
        string target = failure.Target;
        IReadOnlyList<Type> types;
        try { types = binder.GetParameterTypes(target); }
        catch { return $"there is no hub method named '{target}'"; }
        var names = ParameterNames(binder, target, types.Count);
        string signature = $"{target}({string.Join(", ", names)})";
        try
        {
            var bytes = frame.ToArray();
            int end = Array.IndexOf(bytes, (byte)0x1e);
            using var doc = JsonDocument.Parse(bytes.AsMemory(0, end < 0 ? bytes.Length : end));
            if (!doc.RootElement.TryGetProperty("arguments", out var args) || args.ValueKind != JsonValueKind.Array)
                return $"{signature}: the call has no arguments array";
            if (args.GetArrayLength() != types.Count)
                return $"{signature} takes {types.Count} argument(s); the call sent {args.GetArrayLength()}";
            int i = 0;
            foreach (var arg in args.EnumerateArray())
            {
                try { JsonSerializer.Deserialize(arg, types[i], _json); }
                catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or FormatException)
                {
                    return $"{signature}: argument '{names[i]}' is not valid: {Describe(e, types[i])}";
                }
                i++;
            }
        }
        catch (JsonException) { return $"{signature}: the message is not valid JSON"; }
        return $"{signature}: {failure.BindingFailure.SourceException.Message}";
    }

    private static string Describe(Exception e, Type type)
    {
        string path = e is JsonException { Path: { Length: > 1 } p } ? p.TrimStart('$', '.') : "";
        string message = e.Message.Split(" Path:")[0];
        // The value's own type (a property of the argument, found by its JSON name), so the message can say what is expected.
        var target = path.Length == 0 ? type : PropertyType(type, path);
        var underlying = target is null ? null : Nullable.GetUnderlyingType(target) ?? target;
        if (underlying is { IsEnum: true })
            message = $"use one of {string.Join(", ", Enum.GetNames(underlying).Select(JsonNamingPolicy.KebabCaseLower.ConvertName))}";
        else if (underlying == typeof(Guid)) message = "expected a GUID string";
        return path.Length > 0 ? $"{path}: {message}" : message;
    }

    private static Type? PropertyType(Type type, string path)
    {
        Type? current = type;
        foreach (var name in path.Split('.'))
            current = current?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.PropertyType;
        return current;
    }

    /// <summary>Parameter names from the hub class (the binder is generic over it); positions when it cannot be found.</summary>
    private static string[] ParameterNames(IInvocationBinder binder, string target, int count)
    {
        var hubType = binder.GetType().IsGenericType ? binder.GetType().GetGenericArguments()[0] : null;
        var method = hubType?.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(m => m.Name.Equals(target, StringComparison.OrdinalIgnoreCase) && m.GetParameters().Length == count);
        return method?.GetParameters().Select(p => p.Name ?? "?").ToArray() ?? Enumerable.Range(1, count).Select(i => $"#{i}").ToArray();
    }
}
