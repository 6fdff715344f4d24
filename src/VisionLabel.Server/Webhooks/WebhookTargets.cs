using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace VisionLabel.Server.Webhooks;

/// <summary>A hook's host resolves only to addresses hooks may not reach: the connection is refused before it is made.</summary>
public sealed class WebhookTargetRefusedException(string message) : HttpRequestException(message);

/// <summary>
/// Where hooks may send (server-side request forgery defence). A hook's URL is chosen by a project owner, but the
/// server makes the request from inside the network, so by default nothing internal is reached: not loopback, private
/// (RFC 1918, fc00::/7, CGNAT), link-local (cloud metadata at 169.254.169.254), unspecified, multicast or reserved
/// addresses. The URL is checked when the hook is made, and again on every connection (ConnectAsync): the host is
/// resolved, every address checked, and the socket connected to a checked address itself, so a DNS answer that
/// changes after creation (rebinding) cannot smuggle an internal address in. AllowedHosts lets an admin name internal
/// receivers explicitly.
/// </summary>
public sealed class WebhookTargets(IOptions<WebhookOptions> options, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));

    /// <summary>Whether the URL may be a hook's target; the reason when not (for a 400 on "url").</summary>
    public async Task<string?> RefusalAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return "must be an absolute http:// or https:// URL";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "must not carry a user name or password; check the signature instead";
        string host = uri.IdnHost;
        if (IsAllowedHost(host)) return null;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
            return $"{host} is this machine; webhooks may not reach it unless an admin lists it in {WebhookOptions.Section}:AllowedHosts";
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal)) addresses = [literal];
        else
        {
            // A name that does not resolve now is accepted: the receiver may not be in DNS yet, and every delivery checks again.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try { addresses = await _resolve(host, timeout.Token); }
            catch (Exception e) when (e is SocketException or ArgumentException || e is OperationCanceledException && !ct.IsCancellationRequested) { return null; }
        }
        var forbidden = addresses.FirstOrDefault(a => !IsAllowedAddress(a) && IsForbidden(a));
        return forbidden is null ? null
            : $"{host}{(literal is null ? $" resolves to {forbidden}, which" : "")} is a loopback, private, link-local or reserved address; " +
              $"webhooks may not reach it unless an admin lists it in {WebhookOptions.Section}:AllowedHosts";
    }

    /// <summary>
    /// The handler's connect callback: resolves the host, keeps the addresses hooks may reach and connects to the first
    /// that answers. Refuses (WebhookTargetRefusedException) when none may be reached.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken ct)
    {
        bool hostAllowed = IsAllowedHost(endpoint.Host);
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal] : await _resolve(endpoint.Host, ct);
        var usable = addresses.Where(a => hostAllowed || IsAllowedAddress(a) || !IsForbidden(a)).ToList();
        if (usable.Count == 0)
            throw new WebhookTargetRefusedException($"refused: {endpoint.Host} resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, " +
                                                    $"which webhooks may not reach (see {WebhookOptions.Section}:AllowedHosts)");
        SocketException? last = null;
        foreach (var address in usable)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e) { socket.Dispose(); last = e; }
            catch { socket.Dispose(); throw; }
        }
        throw last!;
    }

    private bool IsAllowedHost(string host) =>
        options.Value.AllowedHosts.Any(h => h.Trim().Equals(host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)) ||
        IPAddress.TryParse(host.Trim('[', ']'), out var address) && IsAllowedAddress(address);

    private bool IsAllowedAddress(IPAddress address) =>
        options.Value.AllowedHosts.Any(h => IPAddress.TryParse(h.Trim(), out var allowed) && Normal(allowed).Equals(Normal(address)));

    private static IPAddress Normal(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    /// <summary>Whether hooks must not reach this address unless an admin allows it: anything but a public unicast address.</summary>
    public static bool IsForbidden(IPAddress address)
    {
        address = Normal(address);
        if (address.AddressFamily == AddressFamily.InterNetwork) return IsForbiddenV4(address.GetAddressBytes());
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return true;
        var b = address.GetAddressBytes();
        if (b.Take(12).All(x => x == 0)) return true; // :: (unspecified), ::1 (loopback), and the deprecated IPv4-compatible ::a.b.c.d
        if (b[0] == 0xff) return true; // ff00::/8 multicast
        if ((b[0] & 0xfe) == 0xfc) return true; // fc00::/7 unique local
        if (b[0] == 0xfe && (b[1] & 0xc0) is 0x80 or 0xc0) return true; // fe80::/10 link-local, fec0::/10 site-local
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true; // 2001:db8::/32 documentation
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return true; // 2001::/32 Teredo (tunnels to anywhere)
        // Addresses that carry an IPv4 address a gateway may forward to: judged by that address.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return IsForbiddenV4(b[12..16]); // 64:ff9b::/96 NAT64
        if (b[0] == 0x20 && b[1] == 0x02) return IsForbiddenV4(b[2..6]); // 2002::/16 6to4
        return false;
    }

    private static bool IsForbiddenV4(byte[] b) => b[0] switch
    {
        0 => true, // 0.0.0.0/8 "this network"
        10 => true, // RFC 1918
        100 => (b[1] & 0xc0) == 64, // 100.64.0.0/10 carrier-grade NAT
        127 => true, // loopback
        169 => b[1] == 254, // link-local (cloud metadata services)
        172 => (b[1] & 0xf0) == 16, // RFC 1918 172.16.0.0/12
        192 => b[1] == 168 || b[1] == 0 && b[2] is 0 or 2, // RFC 1918 192.168/16; IETF 192.0.0/24; documentation 192.0.2/24
        198 => b[1] is 18 or 19 || b[1] == 51 && b[2] == 100, // benchmarking 198.18/15; documentation 198.51.100/24
        203 => b[1] == 0 && b[2] == 113, // documentation
        >= 224 => true, // multicast 224/4, reserved 240/4, broadcast
        _ => false,
    };
}
