using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Harness;

/// <summary>What a drill sets up through the Api's own admin routes, as an operator would: the fake provider with one
/// credential and one model, its rates, members with keys and credits.</summary>
public static class Hub
{
    public const string OwnerKey = "ahk_drill_owner_key_0123456789abcdef";

    /// <summary>The credential master key of every drill Api (base64 of 32 bytes).</summary>
    public const string MasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    public const string Model = "openai/gpt-4o-mini";

    /// <summary>Credits per token; a served call costs <see cref="FakeUpstream.PromptTokens"/> × input +
    /// <see cref="FakeUpstream.CompletionTokens"/> × output.</summary>
    public const decimal InputRate = 0.001m;
    public const decimal OutputRate = 0.002m;

    public static decimal ServedCallCharge => FakeUpstream.PromptTokens * InputRate + FakeUpstream.CompletionTokens * OutputRate;

    public static HttpClient Owner(Uri api) => new() { BaseAddress = api, Timeout = TimeSpan.FromSeconds(60), DefaultRequestHeaders = { { "Authorization", $"Bearer {OwnerKey}" } } };

    public static async Task AddProviderAsync(Uri api, FakeUpstream fake)
    {
        using var owner = Owner(api);
        var provider = await PostAsync(owner, "/api/admin/providers", new { name = "openai", baseUrl = fake.BaseUrl.ToString(), enabled = true });
        await PostAsync(owner, $"/api/admin/providers/{provider["id"]}/credentials", new { name = "drill", value = "sk-drill-0123456789abcdef", weight = 100 });
        await AddModelAsync(api, "gpt-4o-mini", "chat", new JsonObject { ["inputRate"] = InputRate, ["outputRate"] = OutputRate });
    }

    /// <summary>Adds an <c>openai</c> model of <paramref name="type"/> (chat, embedding, image, audio, video) to the
    /// catalogue and its rate: <paramref name="rate"/>'s fields as <c>/api/admin/model-rates</c> names them
    /// (<c>inputRate</c>, <c>outputRate</c>, <c>characterRate</c>, <c>secondRate</c>, …).</summary>
    public static async Task AddModelAsync(Uri api, string model, string type, JsonObject rate)
    {
        using var owner = Owner(api);
        await PostAsync(owner, "/api/admin/models", new { provider = "openai", model, type });
        rate["provider"] = "openai";
        rate["model"] = model;
        rate["type"] = type;
        await PostAsync(owner, "/api/admin/model-rates", rate);
    }

    public sealed record Member(Guid UserId, Guid KeyId, string Key);

    public static async Task<Member> AddMemberAsync(Uri api, decimal credits)
    {
        using var owner = Owner(api);
        var user = await PostAsync(owner, "/api/admin/users", new { email = $"drill-{Guid.NewGuid():N}@drills.local", role = "member" });
        var id = user["id"]!.GetValue<Guid>();
        var key = await PostAsync(owner, $"/api/admin/users/{id}/access-keys", new { name = "drill" });
        await PostAsync(owner, $"/api/admin/users/{id}/credits/grants", new { amount = credits.ToString(System.Globalization.CultureInfo.InvariantCulture), category = "paid" });
        return new Member(id, key["id"]!.GetValue<Guid>(), key["key"]!.GetValue<string>());
    }

    public static async Task RevokeAsync(Uri api, Member member)
    {
        using var owner = Owner(api);
        using var response = await owner.DeleteAsync($"/api/admin/users/{member.UserId}/access-keys/{member.KeyId}");
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"revoking the key answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task<JsonNode> PostAsync(HttpClient owner, string path, object body)
    {
        using var response = await owner.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!;
    }
}
