using System.Net;
using System.Net.Http.Json;
using System.Text;
using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using AigneHub.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AigneHub.Tests.Management;

public sealed class ProviderAdminApiTests
{
    [Fact]
    public async Task Providers_crud_with_validation_conflict_and_not_found()
    {
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(ApiFactory.OwnerKey);

        using (var anonymous = api.CreateClient(bearer: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/providers")).StatusCode);
        }

        var created = await client.PostAsJsonAsync("/api/admin/providers", new { name = "OpenAI", displayName = "Main OpenAI", baseUrl = "http://127.0.0.1:9/v1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var provider = await AdminClient.ReadAsync(created);
        var id = provider["id"]!.GetValue<Guid>();
        Assert.Equal("openai", provider["name"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:9/v1/", provider["effectiveBaseUrl"]!.GetValue<string>());
        Assert.True(provider["enabled"]!.GetValue<bool>());
        Assert.Equal($"/api/admin/providers/{id}", created.Headers.Location!.OriginalString);

        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/providers", new { name = "openai" }),
            HttpStatusCode.Conflict, "name", "conflict_error");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/providers", new { name = "acme-ai" }),
            HttpStatusCode.BadRequest, "name");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/providers", new { displayName = "x" }),
            HttpStatusCode.BadRequest, "name");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/providers", new { name = "anthropic", baseUrl = "ftp://x" }),
            HttpStatusCode.BadRequest, "baseUrl");
        await AdminClient.AssertErrorAsync(await client.PostAsync("/api/admin/providers", Json("""{"name":"anthropic","enabled":"yes"}""")),
            HttpStatusCode.BadRequest, "enabled");
        await AdminClient.AssertErrorAsync(await client.PostAsync("/api/admin/providers", Json("""{"name":""")),
            HttpStatusCode.BadRequest, "name");
        await AdminClient.AssertErrorAsync(await client.PostAsync("/api/admin/providers", Json("{not json")),
            HttpStatusCode.BadRequest, null);
        await AdminClient.AssertErrorAsync(await client.PostAsync("/api/admin/providers", Json("[1]")),
            HttpStatusCode.BadRequest, null);
        await AdminClient.AssertErrorAsync(await client.PostAsync("/api/admin/providers", Json("")),
            HttpStatusCode.BadRequest, null);

        var updated = await client.PutAsJsonAsync($"/api/admin/providers/{id}", new { enabled = false, baseUrl = "" });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var after = await AdminClient.ReadAsync(updated);
        Assert.False(after["enabled"]!.GetValue<bool>());
        Assert.Equal("Main OpenAI", after["displayName"]!.GetValue<string>());
        Assert.Null(after["baseUrl"]);
        Assert.Equal("https://api.openai.com/v1/", after["effectiveBaseUrl"]!.GetValue<string>());

        await client.CreateProviderAsync("anthropic");
        await AdminClient.AssertErrorAsync(await client.PutAsJsonAsync($"/api/admin/providers/{id}", new { name = "anthropic" }),
            HttpStatusCode.Conflict, "name", "conflict_error");
        await AdminClient.AssertErrorAsync(await client.PutAsJsonAsync($"/api/admin/providers/{Guid.NewGuid()}", new { enabled = true }),
            HttpStatusCode.NotFound, null, "not_found_error");

        var list = (await AdminClient.ReadAsync(await client.GetAsync("/api/admin/providers"))).AsArray();
        Assert.Equal(["openai", "anthropic"], list.Select(p => p!["name"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/admin/providers/{id}")).StatusCode);
        await AdminClient.AssertErrorAsync(await client.DeleteAsync($"/api/admin/providers/{id}"), HttpStatusCode.NotFound, null, "not_found_error");
    }

    [Fact]
    public async Task Credentials_are_listed_masked_and_stored_without_plaintext()
    {
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var providerId = await client.CreateProviderAsync("openai");
        const string secret = "sk-proj-ThisIsASecretKeyValue9876";

        var created = await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { name = "primary", value = secret, weight = 250 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var text = await created.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, text);
        var credential = await AdminClient.ReadAsync(created);
        var credentialId = credential["id"]!.GetValue<Guid>();
        Assert.Equal("sk-p…9876", credential["maskedValue"]!.GetValue<string>());
        Assert.Equal(250, credential["weight"]!.GetValue<int>());
        Assert.Equal("active", credential["status"]!.GetValue<string>());
        Assert.Null(credential["value"]);

        var listText = await client.GetStringAsync($"/api/admin/providers/{providerId}/credentials");
        Assert.DoesNotContain(secret, listText);
        Assert.Contains("sk-p…9876", listText);

        // :: The row: no column holds the plaintext (or its base64), and the ciphertext opens only for this row.
        await using (var connection = new NpgsqlConnection(api.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand(
                "SELECT row_to_json(c)::text, encode(c.encrypted_value, 'escape') FROM aignehub.provider_credentials c", connection);
            await using var reader = await select.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            var row = reader.GetString(0);
            Assert.DoesNotContain(secret, row);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), row);
            Assert.DoesNotContain(secret, reader.GetString(1));
            Assert.DoesNotContain("ThisIsASecret", row);
        }
        await using (var scope = api.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
            var row = await db.Set<ProviderCredential>().SingleAsync();
            Assert.Equal(1, row.EncryptedValue[0]);
            Assert.Equal(1 + 12 + Encoding.UTF8.GetByteCount(secret) + 16, row.EncryptedValue.Length);
            var protector = api.Services.GetRequiredService<CredentialProtector>();
            Assert.Equal(secret, protector.Unprotect(credentialId, row.EncryptedValue));
            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => protector.Unprotect(Guid.NewGuid(), row.EncryptedValue));
        }

        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { name = "x" }),
            HttpStatusCode.BadRequest, "value");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { value = "sk-x", weight = 0 }),
            HttpStatusCode.BadRequest, "weight");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { value = "sk-x", weight = 1001 }),
            HttpStatusCode.BadRequest, "weight");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync($"/api/admin/providers/{Guid.NewGuid()}/credentials", new { value = "sk-x" }),
            HttpStatusCode.NotFound, null, "not_found_error");

        var shortOne = await AdminClient.ReadAsync(await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { value = "short" }));
        Assert.Equal("********", shortOne["maskedValue"]!.GetValue<string>());
        Assert.Equal(100, shortOne["weight"]!.GetValue<int>());

        var updated = await AdminClient.ReadAsync(await client.PutAsJsonAsync(
            $"/api/admin/providers/{providerId}/credentials/{credentialId}", new { value = "sk-new-key-value-000011112222", weight = 5 }));
        Assert.Equal("sk-n…2222", updated["maskedValue"]!.GetValue<string>());
        Assert.Equal(5, updated["weight"]!.GetValue<int>());
        Assert.Equal("primary", updated["name"]!.GetValue<string>());
        await AdminClient.AssertErrorAsync(await client.PutAsJsonAsync(
            $"/api/admin/providers/{providerId}/credentials/{Guid.NewGuid()}", new { weight = 5 }), HttpStatusCode.NotFound, null, "not_found_error");

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/admin/providers/{providerId}/credentials/{credentialId}")).StatusCode);
        await AdminClient.AssertErrorAsync(await client.DeleteAsync($"/api/admin/providers/{providerId}/credentials/{credentialId}"),
            HttpStatusCode.NotFound, null, "not_found_error");
    }

    [Fact]
    public async Task Credential_test_reports_success_with_latency_or_the_provider_error_and_reactivates()
    {
        await using var api = await ApiFactory.StartAsync<ManagementApiFactory>();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var providerId = await client.CreateProviderAsync("deepseek", baseUrl: "http://127.0.0.1:9");
        var credentialId = await client.AddCredentialAsync(providerId, "sk-deepseek-secret-1234");
        var url = $"/api/admin/providers/{providerId}/credentials/{credentialId}/test";

        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync(url, new { }), HttpStatusCode.BadRequest, "model");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials/{Guid.NewGuid()}/test", new { model = "m" }),
            HttpStatusCode.NotFound, null, "not_found_error");

        var ok = await AdminClient.ReadAsync(await client.PostAsJsonAsync(url, new { model = "deepseek-chat" }));
        Assert.True(ok["ok"]!.GetValue<bool>());
        Assert.Equal(7, ok["latencyMs"]!.GetValue<long>());
        var call = Assert.Single(api.Tester.Calls);
        Assert.Equal(("deepseek", "sk-deepseek-secret-1234", "deepseek-chat"), call);

        api.Tester.Next = new CredentialTestResult(false, 3, "deepseek: Authentication Fails (invalid key)", AigneHub.Api.Providers.ProviderErrorClass.InvalidCredential);
        var failed = await AdminClient.ReadAsync(await client.PostAsJsonAsync(url, new { model = "deepseek-chat" }));
        Assert.False(failed["ok"]!.GetValue<bool>());
        Assert.Equal("deepseek: Authentication Fails (invalid key)", failed["error"]!.GetValue<string>());
        Assert.Null(failed["latencyMs"]);

        // A successful test brings a deactivated credential back.
        await using (var scope = api.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
            await db.Set<ProviderCredential>().ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CredentialStatus.Inactive).SetProperty(c => c.LastError, "401"));
        }
        api.Tester.Next = new CredentialTestResult(true, 9);
        Assert.True((await AdminClient.ReadAsync(await client.PostAsJsonAsync(url, new { model = "deepseek-chat" })))["ok"]!.GetValue<bool>());
        var listed = (await AdminClient.ReadAsync(await client.GetAsync($"/api/admin/providers/{providerId}/credentials"))).AsArray().Single()!;
        Assert.Equal("active", listed["status"]!.GetValue<string>());
        Assert.Null(listed["lastError"]);
    }

    [Fact]
    public async Task Model_catalogue_crud_with_validation_conflict_and_not_found()
    {
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        await client.CreateProviderAsync("openai");

        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "anthropic", model = "claude", type = "chat" }),
            HttpStatusCode.BadRequest, "provider");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "nope", model = "x", type = "chat" }),
            HttpStatusCode.BadRequest, "provider");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "openai", model = "x", type = "music" }),
            HttpStatusCode.BadRequest, "type");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "openai", type = "chat" }),
            HttpStatusCode.BadRequest, "model");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "openai", model = "x" }),
            HttpStatusCode.BadRequest, "type");
        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "openai", model = "x", type = "chat", metadata = new[] { 1 } }),
            HttpStatusCode.BadRequest, "metadata");

        var created = await client.PostAsJsonAsync("/api/admin/models",
            new { provider = "openai", model = "gpt-4o-mini", type = "Chat", displayName = "GPT-4o mini", metadata = new { contextWindow = 128000, features = new[] { "tools" } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = await AdminClient.ReadAsync(created);
        var id = model["id"]!.GetValue<Guid>();
        Assert.Equal("openai", model["provider"]!.GetValue<string>());
        Assert.Equal("chat", model["type"]!.GetValue<string>());
        Assert.Equal(128000, model["metadata"]!["contextWindow"]!.GetValue<int>());

        await AdminClient.AssertErrorAsync(await client.PostAsJsonAsync("/api/admin/models", new { provider = "openai", model = "gpt-4o-mini", type = "chat" }),
            HttpStatusCode.Conflict, "model", "conflict_error");
        await client.AddModelAsync("openai", "gpt-4o-mini", "image");
        await client.AddModelAsync("openai", "text-embedding-3-small", "embedding");

        var updated = await AdminClient.ReadAsync(await client.PutAsJsonAsync($"/api/admin/models/{id}", new { displayName = "", enabled = false }));
        Assert.False(updated["enabled"]!.GetValue<bool>());
        Assert.Null(updated["displayName"]);
        Assert.Equal(128000, updated["metadata"]!["contextWindow"]!.GetValue<int>());
        await AdminClient.AssertErrorAsync(await client.PutAsJsonAsync($"/api/admin/models/{id}", new { type = "image" }),
            HttpStatusCode.Conflict, "model", "conflict_error");
        await AdminClient.AssertErrorAsync(await client.PutAsJsonAsync($"/api/admin/models/{Guid.NewGuid()}", new { enabled = true }),
            HttpStatusCode.NotFound, null, "not_found_error");

        var embeddings = (await AdminClient.ReadAsync(await client.GetAsync("/api/admin/models?type=embedding"))).AsArray();
        Assert.Equal("text-embedding-3-small", Assert.Single(embeddings)!["model"]!.GetValue<string>());
        Assert.Equal(3, (await AdminClient.ReadAsync(await client.GetAsync("/api/admin/models?provider=openai"))).AsArray().Count);
        await AdminClient.AssertErrorAsync(await client.GetAsync("/api/admin/models?type=nope"), HttpStatusCode.BadRequest, "type");

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/admin/models/{id}")).StatusCode);
        await AdminClient.AssertErrorAsync(await client.DeleteAsync($"/api/admin/models/{id}"), HttpStatusCode.NotFound, null, "not_found_error");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
