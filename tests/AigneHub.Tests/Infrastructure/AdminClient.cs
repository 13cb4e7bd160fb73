using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Tests.Infrastructure;

/// <summary>The admin REST API as tests drive it: each helper asserts the call succeeded.</summary>
internal static class AdminClient
{
    public static async Task<Guid> CreateProviderAsync(this HttpClient client, string name, string? baseUrl = null, bool enabled = true)
    {
        var response = await client.PostAsJsonAsync("/api/admin/providers", new { name, baseUrl, enabled });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ReadAsync(response))["id"]!.GetValue<Guid>();
    }

    public static async Task<Guid> AddCredentialAsync(this HttpClient client, Guid providerId, string value, int? weight = null)
    {
        var response = await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { name = "k", value, weight });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ReadAsync(response))["id"]!.GetValue<Guid>();
    }

    public static async Task<Guid> AddModelAsync(this HttpClient client, string provider, string model, string type = "chat")
    {
        var response = await client.PostAsJsonAsync("/api/admin/models", new { provider, model, type });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ReadAsync(response))["id"]!.GetValue<Guid>();
    }

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("empty body");

    /// <summary>Asserts the status and the <c>{"error":{"message","type","param"}}</c> shape naming <paramref name="param"/>.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? param, string type = "invalid_request_error")
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    /// <summary>A member with an access key of their own (the key is returned once, as the Api shows it).</summary>
    public static async Task<(Guid Id, string Key)> CreateMemberAsync(this HttpClient client, string? email = null)
    {
        var response = await client.PostAsJsonAsync("/api/admin/users", new { email = email ?? $"m{Guid.NewGuid():N}@test.local", role = "member" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await ReadAsync(response))["id"]!.GetValue<Guid>();
        var key = await client.PostAsJsonAsync($"/api/admin/users/{id}/access-keys", new { name = "test" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        return (id, (await ReadAsync(key))["key"]!.GetValue<string>());
    }
}
