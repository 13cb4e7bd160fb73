using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Identity;

/// <summary>Helpers that act through the public HTTP surface, the way an admin or a client would.</summary>
internal static class IdentityTestClient
{
    public static string NewEmail(string tag = "user") => $"{tag}-{Guid.NewGuid():N}@example.test";

    /// <summary>Creates a user with the given role (as the bootstrap owner) and an access key for them.</summary>
    public static async Task<(Guid UserId, string Key)> CreateUserWithKeyAsync(ApiFactory api, string role, string? password = null, string? email = null)
    {
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var created = await owner.PostAsJsonAsync("/api/admin/users", new { email = email ?? NewEmail(role), role, password });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var userId = (await ReadJsonAsync(created))["id"]!.GetValue<Guid>();
        var key = await owner.PostAsJsonAsync($"/api/admin/users/{userId}/access-keys", new { name = "test" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        return (userId, (await ReadJsonAsync(key))["key"]!.GetValue<string>());
    }

    public static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("empty body");
    }

    /// <summary>Asserts the status and the <c>{"error":{"message","type"}}</c> shape; returns the message.</summary>
    public static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(type, error["type"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message;
    }
}
