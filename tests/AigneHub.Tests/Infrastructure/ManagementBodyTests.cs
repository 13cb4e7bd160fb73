using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// Strings Postgres cannot store — NUL (<c>text</c> and <c>jsonb</c> both refuse it) and text that is not valid
/// Unicode — reach every management route as a 400 naming the field, not as a 500 from the database.
/// </summary>
public sealed class ManagementBodyTests
{
    [Fact]
    public async Task A_string_holding_NUL_is_a_400_naming_the_field_on_every_kind_of_body()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var (userId, _) = await owner.CreateMemberAsync();

        // Typed bodies (identity, providers, catalogue) and field-by-field bodies (rates, grants), top level and nested.
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/v2/access-keys", """{"name":"lap\u0000top"}"""),
            HttpStatusCode.BadRequest, "name");
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Patch, $"/api/admin/users/{userId}", """{"displayName":"A\u0000nn"}"""),
            HttpStatusCode.BadRequest, "displayName");
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/admin/providers", """{"name":"openai","displayName":"Open\u0000AI"}"""),
            HttpStatusCode.BadRequest, "displayName");
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/admin/models",
            """{"provider":"demo","model":"echo","type":"chat","metadata":{"notes":["fine","no\u0000pe"]}}"""), HttpStatusCode.BadRequest, "metadata.notes[1]");
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/admin/model-rates",
            """{"provider":"openai","model":"gpt\u0000x","type":"chat","inputRate":"1","outputRate":"1"}"""), HttpStatusCode.BadRequest, "model");
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, $"/api/admin/users/{userId}/credits/grants",
            """{"amount":"5","category":"paid","note":"\u0000"}"""), HttpStatusCode.BadRequest, "note");

        // Nothing was stored on the way: the key list holds only the member's own test key, and no rate exists.
        Assert.DoesNotContain("lap", await owner.GetStringAsync("/api/v2/access-keys"));
        Assert.Equal("[]", await owner.GetStringAsync("/api/admin/model-rates"));
    }

    [Fact]
    public async Task Text_that_is_not_valid_Unicode_is_a_400_naming_the_field()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);

        // A lone surrogate, escaped (the only way JSON text can carry one) — high half, then low half.
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/v2/access-keys", """{"name":"key \ud800"}"""),
            HttpStatusCode.BadRequest, "name");
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/admin/model-rates",
            """{"provider":"openai","model":"\udc00","type":"chat","inputRate":"1","outputRate":"1"}"""), HttpStatusCode.BadRequest, "model");
        // Bytes that are not UTF-8 at all (0xFF never occurs in UTF-8).
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, $"/api/admin/users/{Guid.NewGuid()}/credits/grants",
            [.. "{\"amount\":\"5\",\"category\":\"paid\",\"note\":\""u8, 0xFF, .. "\"}"u8]), HttpStatusCode.BadRequest, "note");
        // A property name that is not valid Unicode cannot be named: the error points at the object holding it.
        await AdminClient.AssertErrorAsync(await SendAsync(owner, HttpMethod.Post, "/api/admin/models",
            """{"provider":"demo","model":"echo","type":"chat","metadata":{"\ud800":1}}"""), HttpStatusCode.BadRequest, "metadata");

        // A valid surrogate pair (an emoji) is ordinary text and is stored.
        var created = await SendAsync(owner, HttpMethod.Post, "/api/v2/access-keys", """{"name":"laptop \ud83d\ude80"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("laptop \U0001F680", (await created.Content.ReadFromJsonAsync<CreatedKey>())!.Name);
    }

    private sealed record CreatedKey(string? Name);

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string json) =>
        SendAsync(client, method, url, Encoding.UTF8.GetBytes(json));

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return client.SendAsync(new HttpRequestMessage(method, url) { Content = content });
    }
}
