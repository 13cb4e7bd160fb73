using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts;
using AigneHub.Contracts.Aliases;
using AigneHub.Contracts.Billing;
using AigneHub.Contracts.Identity;
using AigneHub.Contracts.Management;
using AigneHub.Tests.Management;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// Seeded, deterministic mutations of valid management bodies: the one body reader answers each with a body or a 400
/// in the common error shape (never an exception), and through HTTP no management route answers 5xx.
/// </summary>
public sealed class ManagementBodyFuzzTests
{
    private const string Future = "2099-01-01T00:00:00Z";

    /// <summary>A valid body of every request contract (typed or read field by field by the Api).</summary>
    private static readonly Dictionary<Type, string> ValidBodies = new()
    {
        [typeof(LoginRequest)] = """{"email":"fuzz@example.test","password":"correct horse"}""",
        [typeof(WalletChallengeRequest)] = """{"did":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}""",
        [typeof(WalletVerifyRequest)] = """{"did":"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","nonce":"n1","signature":"c2ln"}""",
        [typeof(OidcExchangeRequest)] = """{"idToken":"a.b.c"}""",
        [typeof(CreateUserRequest)] = """{"email":"fuzz@example.test","displayName":"Fuzz","role":"member","password":"correct horse"}""",
        [typeof(UpdateUserRequest)] = """{"role":"member","disabled":false,"displayName":"Fuzz"}""",
        [typeof(CreateAccessKeyRequest)] = $$"""{"name":"fuzz","expiresAt":"{{Future}}","scope":"inference"}""",
        [typeof(CreateAppRequest)] = """{"name":"fuzz","publicKey":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}""",
        [typeof(SetSubscriptionRequest)] = $$"""{"status":"active","currentPeriodEnd":"{{Future}}"}""",
        [typeof(ConnectSessionRequest)] = """{"clientName":"fuzz-cli"}""",
        [typeof(ConnectApproveRequest)] = """{"userCode":"WDJB-MJHT"}""",
        [typeof(CreateInvitationRequest)] = """{"email":"invitee@example.test","role":"member","expiresInDays":7}""",
        [typeof(ProviderRequest)] = """{"name":"openai","displayName":"OpenAI","baseUrl":"http://127.0.0.1:1/v1","enabled":true}""",
        [typeof(CredentialRequest)] = """{"name":"k","value":"sk-fuzz","weight":2}""",
        [typeof(CredentialTestRequest)] = """{"model":"gpt-4o-mini"}""",
        [typeof(ModelRequest)] = """{"provider":"openai","model":"gpt-fuzz","type":"chat","displayName":"Fuzz","metadata":{"tags":["a","b"],"n":1},"enabled":true}""",
        [typeof(ModelRateRequest)] = """
            {"provider":"openai","model":"gpt-fuzz","type":"chat","inputRate":"0.000001","outputRate":"0.000002","cacheWriteRate":"0.0000001",
             "cacheReadRate":null,"unitCosts":{"input":"0.0000005","output":"0.000001"},"margin":{"percent":"20","creditPrice":"1"},
             "metadata":{"k":"v"},"deprecated":false}
            """,
        [typeof(GrantRequest)] = $$"""{"amount":"5","category":"promotional","expiresAt":"{{Future}}","note":"fuzz"}""",
        [typeof(ModelAliasRequest)] = """{"alias":"fuzz-[0-9]*","targets":["openai/*","anthropic/claude-fuzz"],"enabled":true}""",
    };

    /// <summary>
    /// The valid body of each management write route, by route name; a route not listed is fuzzed from <c>{}</c>
    /// (OidcExchange too: OpenID Connect is off in tests, so it answers 404 before it reads the body; and
    /// ApproveConnectSession, which answers an unknown session with 404 before it reads the body).
    /// </summary>
    private static readonly Dictionary<string, Type> RouteBodies = new()
    {
        ["Login"] = typeof(LoginRequest),
        ["WalletChallenge"] = typeof(WalletChallengeRequest),
        ["WalletVerify"] = typeof(WalletVerifyRequest),
        ["CreateUser"] = typeof(CreateUserRequest),
        ["UpdateUser"] = typeof(UpdateUserRequest),
        ["CreateMyAccessKey"] = typeof(CreateAccessKeyRequest),
        ["CreateUserAccessKey"] = typeof(CreateAccessKeyRequest),
        ["CreateApp"] = typeof(CreateAppRequest),
        ["SetAppSubscription"] = typeof(SetSubscriptionRequest),
        ["CreateConnectSession"] = typeof(ConnectSessionRequest),
        ["CreateInvitation"] = typeof(CreateInvitationRequest),
        ["CreateProvider"] = typeof(ProviderRequest),
        ["UpdateProvider"] = typeof(ProviderRequest),
        ["CreateProviderCredential"] = typeof(CredentialRequest),
        ["UpdateProviderCredential"] = typeof(CredentialRequest),
        ["TestProviderCredential"] = typeof(CredentialTestRequest),
        ["CreateCatalogModel"] = typeof(ModelRequest),
        ["UpdateCatalogModel"] = typeof(ModelRequest),
        ["CreateModelRate"] = typeof(ModelRateRequest),
        ["UpdateModelRate"] = typeof(ModelRateRequest),
        ["GrantCredits"] = typeof(GrantRequest),
        ["CreateModelAlias"] = typeof(ModelAliasRequest),
        ["UpdateModelAlias"] = typeof(ModelAliasRequest),
    };

    [Fact]
    public void Every_request_contract_has_a_valid_body_to_mutate()
    {
        var requests = typeof(ErrorEnvelope).Assembly.GetTypes().Where(t => t.Name.EndsWith("Request", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(requests);
        Assert.Empty(requests.Where(t => !ValidBodies.ContainsKey(t)).Select(t => t.Name));
    }

    [Fact]
    public async Task The_body_reader_answers_thousands_of_mutated_bodies_with_a_body_or_a_400_naming_the_bad_text()
    {
        var contexts = new JsonSerializerContext[] { IdentityJsonContext.Default, ManagementJsonContext.Default, BillingJsonContext.Default, AliasesJsonContext.Default };
        var failures = new List<string>();
        var read = 0;
        foreach (var (type, valid) in ValidBodies)
        {
            var info = contexts.Select(c => c.GetTypeInfo(type)).First(i => i is not null)!;
            var readAs = typeof(ManagementBodyFuzzTests).GetMethod(nameof(ReadTypedAsync), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
            var mutator = new JsonMutator(seed: type.Name.Length * 7919);
            for (var i = 0; i < 400; i++)
            {
                var mutation = mutator.Next(valid);
                read++;
                try
                {
                    // Both views of the one reader: typed (identity, providers, catalogue) and field by field (rates, grants).
                    var typed = await (Task<JsonHttpResultProbe>)readAs.Invoke(null, [mutation.Body, info])!;
                    var (fields, fieldsError) = await JsonBody.ReadAsync(Request(mutation.Body));
                    Check($"{type.Name} #{i} ({mutation.Description}) typed", typed.Status, typed.Error, mutation, failures);
                    Check($"{type.Name} #{i} ({mutation.Description}) fields", fields is null ? 400 : 200, fieldsError?.Value, mutation, failures);
                }
                catch (Exception ex)
                {
                    failures.Add($"{type.Name} #{i} ({mutation.Description}): {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
        Assert.True(read >= 5000, $"only {read} bodies read");
        Assert.True(failures.Count == 0, $"{failures.Count} of {read} mutated bodies misread:\n" + string.Join('\n', failures.Take(30)));
    }

    private sealed record JsonHttpResultProbe(int Status, ErrorEnvelope? Error);

    private static async Task<JsonHttpResultProbe> ReadTypedAsync<T>(byte[] body, JsonTypeInfo info) where T : class
    {
        var (value, error) = await ApiErrors.ReadBodyAsync(Request(body), (JsonTypeInfo<T>)info);
        return value is not null ? new(200, null) : new(error!.StatusCode ?? 0, error.Value);
    }

    private static void Check(string what, int status, ErrorEnvelope? error, JsonMutator.Mutation mutation, List<string> failures)
    {
        if (status == 200)
        {
            if (mutation.Injected)
            {
                failures.Add($"{what}: accepted text Postgres cannot store");
            }
            return;
        }
        if (status != 400 || error?.Error is not { Type: ErrorTypes.InvalidRequest, Message.Length: > 0 } body)
        {
            failures.Add($"{what}: {status} {JsonSerializer.Serialize(error)}");
            return;
        }
        if (mutation.Injected && body.Param != mutation.Unstorable)
        {
            failures.Add($"{what}: param '{body.Param}', expected '{mutation.Unstorable}' ({body.Message})");
        }
    }

    private static HttpRequest Request(byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Request.ContentType = "application/json";
        return context.Request;
    }

    /// <summary>
    /// Every POST/PUT/PATCH route outside the gateway's caller protocols (found from the endpoint data source, so a
    /// new route is fuzzed without editing this test), with ids of real rows: never a 5xx, every error in the common
    /// shape, only 400 / 404 / 409 besides success (and 401 / 403 / 429 on the sign-in routes), and unstorable text
    /// always a 400 naming its field.
    /// </summary>
    [Fact]
    public async Task No_management_route_answers_a_mutated_body_with_a_5xx()
    {
        await using var api = await ApiFactory.StartAsync<ManagementApiFactory>();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var ids = await SeedRowsAsync(owner);

        var routes = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<MethodInfo>()?.DeclaringType?.Namespace?.StartsWith("AigneHub.Api.Gateway", StringComparison.Ordinal) == false)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Where(m => m is "POST" or "PUT" or "PATCH")
                .Select(m => (Method: m, Pattern: "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'), Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName)))
            .ToList();
        Assert.Contains(routes, r => r.Name == "CreateModelRate");
        Assert.DoesNotContain(routes, r => r.Pattern.EndsWith("/chat/completions", StringComparison.Ordinal));

        var failures = new List<string>();
        var sent = 0;
        foreach (var (method, pattern, name) in routes)
        {
            var path = FillRouteValues(pattern, ids);
            var hasBody = name is not null && RouteBodies.ContainsKey(name);
            var valid = hasBody ? ValidBodies[RouteBodies[name!]] : "{}";
            var signIn = pattern.StartsWith("/api/auth", StringComparison.Ordinal);
            var mutator = new JsonMutator(seed: pattern.Length * 104729 + method.Length);
            for (var i = 0; i < 16; i++)
            {
                var mutation = mutator.Next(valid);
                using var content = new ByteArrayContent(mutation.Body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await owner.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = content });
                sent++;
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                var what = $"{method} {pattern} #{i} ({mutation.Description}) → {status}";
                var allowed = status is >= 200 and < 300 or 400 or 404 or 409 || signIn && status is 401 or 403 or 429;
                if (!allowed)
                {
                    failures.Add($"{what}: {Truncate(text)}");
                    continue;
                }
                if (status >= 400 && ErrorOf(text) is not { } error)
                {
                    failures.Add($"{what}: not the common error shape: {Truncate(text)}");
                    continue;
                }
                if (hasBody && mutation.Injected && (status != 400 || ErrorOf(text)!.Value.Param != mutation.Unstorable))
                {
                    failures.Add($"{what}: unstorable text must be a 400 naming '{mutation.Unstorable}': {Truncate(text)}");
                }
            }
        }
        Assert.True(sent >= 300, $"only {sent} requests sent");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests:\n" + string.Join('\n', failures.Take(30)));
    }

    /// <summary>The <c>{"error":{"message","type","param"}}</c> body, or null when the text is not that shape.</summary>
    private static (string Message, string Type, string? Param)? ErrorOf(string text)
    {
        try
        {
            if (JsonNode.Parse(text)?["error"] is JsonObject error && error["message"] is JsonValue message && error["type"] is JsonValue type
                && error.ContainsKey("param") && message.TryGetValue<string>(out var m) && m.Length > 0 && type.TryGetValue<string>(out var t))
            {
                return (m, t, error["param"]?.GetValue<string>());
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;

    /// <summary>Real rows for the route values, so a mutated body reaches the code behind the id checks.</summary>
    private static async Task<Dictionary<string, string>> SeedRowsAsync(HttpClient owner)
    {
        async Task<string> IdOf(HttpResponseMessage response, string field = "id")
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return (await AdminClient.ReadAsync(response))[field]!.ToString();
        }
        var (userId, _) = await owner.CreateMemberAsync();
        var providerId = await owner.CreateProviderAsync("openai", "http://127.0.0.1:1/v1");
        var credentialId = await owner.AddCredentialAsync(providerId, "sk-fuzz-seed");
        var modelId = await owner.AddModelAsync("openai", "gpt-seed");
        var rateId = await IdOf(await owner.PostAsJsonAsync("/api/admin/model-rates",
            new { provider = "openai", model = "gpt-seed", type = "chat", inputRate = "0.000001", outputRate = "0.000002" }));
        var appId = await IdOf(await owner.PostAsJsonAsync("/api/admin/apps",
            new { name = "seed", publicKey = Convert.ToHexStringLower(Ed25519Crypto.PublicKeyOf(new byte[32])) }), "appId");
        var aliasId = await IdOf(await owner.PostAsJsonAsync("/api/admin/aliases", new { alias = "seed-alias", targets = new[] { "openai/gpt-seed" } }));
        return new(StringComparer.Ordinal)
        {
            ["aliases"] = aliasId,
            ["users"] = userId.ToString(),
            ["providers"] = providerId.ToString(),
            ["credentials"] = credentialId.ToString(),
            ["models"] = modelId.ToString(),
            ["model-rates"] = rateId,
            ["apps"] = appId,
        };
    }

    /// <summary>Each route value becomes the id of the row named by the segment before it (unknown: a fresh id, a 404).</summary>
    private static string FillRouteValues(string pattern, Dictionary<string, string> ids)
    {
        var segments = pattern.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].StartsWith('{'))
            {
                segments[i] = i > 0 && ids.TryGetValue(segments[i - 1], out var id) ? id : Guid.NewGuid().ToString("N");
            }
        }
        return string.Join('/', segments);
    }
}
