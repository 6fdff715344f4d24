using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Webhooks;

namespace VisionLabel.Tests;

public partial class WebhooksTests
{
    /// <summary>The address checks without a server: the classifier, and the connect callback with a DNS the test controls.</summary>
    [Trait("Tier", Tiers.Unit)]
    public class Targets
    {
        [Fact]
        public async Task The_connect_callback_connects_only_to_checked_addresses()
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            var endpoint = new DnsEndPoint("internal.test", receiver.Port);
            Task<IPAddress[]> Loopback(string host, CancellationToken ct) => Task.FromResult<IPAddress[]>([IPAddress.Loopback, IPAddress.Parse("10.1.2.3")]);
            var strict = new WebhookTargets(Options.Create(new WebhookOptions()), Loopback);
            var refused = await Assert.ThrowsAsync<WebhookTargetRefusedException>(() => strict.ConnectAsync(endpoint, CancellationToken.None).AsTask());
            Assert.Contains("127.0.0.1, 10.1.2.3", refused.Message);
            Assert.NotNull(await strict.RefusalAsync($"http://internal.test:{receiver.Port}/hook", CancellationToken.None));
            // Through an HttpClient as the server builds it: refused before any byte reaches the receiver.
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectCallback = (c, ct) => strict.ConnectAsync(c.DnsEndPoint, ct) });
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"http://internal.test:{receiver.Port}/hook", new StringContent("{}")));
            Assert.IsType<WebhookTargetRefusedException>(e.InnerException ?? e, exactMatch: false);
            Assert.Empty(receiver.Received);
            // Named by an admin, the same host is reached.
            var allowed = new WebhookTargets(Options.Create(new WebhookOptions { AllowedHosts = ["internal.test"] }), Loopback);
            await using (var stream = await allowed.ConnectAsync(endpoint, CancellationToken.None)) Assert.True(stream.CanWrite);
            Assert.Null(await allowed.RefusalAsync($"http://internal.test:{receiver.Port}/hook", CancellationToken.None));
        }

        [Theory]
        [InlineData("127.0.0.1", true), InlineData("127.255.0.9", true), InlineData("::1", true), InlineData("::ffff:127.0.0.1", true), InlineData("::", true)]
        [InlineData("0.0.0.0", true), InlineData("0.1.2.3", true), InlineData("10.0.0.1", true), InlineData("10.255.255.255", true)]
        [InlineData("172.16.0.1", true), InlineData("172.31.255.255", true), InlineData("172.15.255.255", false), InlineData("172.32.0.1", false)]
        [InlineData("192.168.0.1", true), InlineData("192.169.0.1", false), InlineData("169.254.169.254", true), InlineData("169.253.1.1", false)]
        [InlineData("100.64.0.1", true), InlineData("100.127.255.255", true), InlineData("100.63.255.255", false), InlineData("100.128.0.1", false)]
        [InlineData("224.0.0.1", true), InlineData("239.255.255.250", true), InlineData("255.255.255.255", true), InlineData("240.0.0.1", true)]
        [InlineData("fe80::1", true), InlineData("febf::1", true), InlineData("fc00::1", true), InlineData("fd12:3456::1", true), InlineData("ff02::1", true)]
        [InlineData("::ffff:10.0.0.1", true), InlineData("::ffff:169.254.169.254", true), InlineData("64:ff9b::a9fe:a9fe", true), InlineData("2002:7f00:1::", true)]
        [InlineData("93.184.216.34", false), InlineData("8.8.8.8", false), InlineData("::ffff:93.184.216.34", false), InlineData("2606:2800:220:1:248:1893:25c8:1946", false)]
        [InlineData("2a00:1450:4001:80b::200e", false), InlineData("64:ff9b::808:808", false), InlineData("1.1.1.1", false)]
        public void The_address_classifier_refuses_everything_but_public_unicast(string address, bool forbidden) =>
            Assert.Equal(forbidden, WebhookTargets.IsForbidden(IPAddress.Parse(address)));
    }
}
