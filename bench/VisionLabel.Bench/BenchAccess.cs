using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Bench;

/// <summary>
/// Accounts for the in-process benchmark servers: every API call and page needs a signed-in caller, so a bench makes
/// admin accounts (admins own every project) through the server's own account service, then calls the API with a
/// personal access token, and signs its browser pages in through the sign-in page as a person would.
/// </summary>
public static class BenchAccess
{
    public const string Password = "bench-password-0123";

    /// <summary>An HTTP client for the server at <paramref name="url"/>, as the admin <paramref name="user"/> (made when missing).</summary>
    public static async Task<HttpClient> ClientAsync(IServiceProvider services, string url, string user = "bench", TimeSpan? timeout = null)
    {
        await using var scope = services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<Accounts>();
        var account = await accounts.FindAsync(user);
        if (account is null)
        {
            var (created, field, problem) = await accounts.CreateAsync(user, null, Password, isAdmin: true);
            account = created ?? throw new InvalidOperationException($"bench account {user}: {field} {problem}");
        }
        var token = await scope.ServiceProvider.GetRequiredService<PersonalAccessTokens>().CreateAsync(account.Id, "bench", TokenScope.Write, expiresInDays: 1);
        var http = new HttpClient { BaseAddress = new Uri(url), Timeout = timeout ?? TimeSpan.FromMinutes(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        return http;
    }

    /// <summary>A response's JSON body; a refusal throws with its status and body (a bench stops at the first surprise).</summary>
    public static async Task<System.Text.Json.JsonElement> JsonAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Signs the page in as <paramref name="user"/> (an account made by <see cref="ClientAsync"/>) and opens <paramref name="path"/>.</summary>
    public static async Task SignInAsync(IPage page, string url, string user, string path)
    {
        await page.GotoAsync($"{url}/signin?return={Uri.EscapeDataString(path)}");
        await page.Locator("input[autocomplete=username]").FillAsync(user);
        await page.Locator("input[autocomplete=current-password]").FillAsync(Password);
        await page.Locator("form button[type=submit]").ClickAsync();
        await page.WaitForURLAsync(u => new Uri(u).PathAndQuery == path, new PageWaitForURLOptions { Timeout = 30_000 });
    }
}
