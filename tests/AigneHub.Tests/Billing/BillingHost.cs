using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Data.Identity;
using AigneHub.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AigneHub.Tests.Billing;

/// <summary>An Api with billing configured, plus the shortcuts billing tests need (users, rates, grants, sums).</summary>
internal sealed class BillingHost : IAsyncDisposable
{
    public static readonly ModelTarget Gpt = new(ProviderKinds.OpenAI, null, new Uri("http://127.0.0.1:1/"), "gpt-test", ModelType.Chat);
    public static readonly ModelTarget Claude = new(ProviderKinds.Anthropic, null, new Uri("http://127.0.0.1:1/"), "claude-test", ModelType.Chat);
    public static readonly ModelTarget Unrated = new(ProviderKinds.DeepSeek, null, new Uri("http://127.0.0.1:1/"), "no-rate", ModelType.Chat);

    private BillingHost(ApiFactory api) => Api = api;

    public ApiFactory Api { get; }

    /// <summary>The recorder as the gateway sees it: a refusal is answered as the gateway answers it.</summary>
    public AdmittingRecorder Recorder => new(Api.Services.GetRequiredService<ICallRecorder>());

    public HttpClient Owner => Api.CreateClient(ApiFactory.OwnerKey);

    public static Task<BillingHost> StartAsync(Action<ApiFactory>? configure = null, string? database = null) =>
        StartAsync<ApiFactory>(configure, database);

    /// <summary>A billing Api of a factory type of the test's choice (e.g. <see cref="ClockedApiFactory"/>).</summary>
    public static async Task<BillingHost> StartAsync<T>(Action<T>? configure = null, string? database = null) where T : ApiFactory, new() =>
        new(await ApiFactory.StartAsync<T>(database, f =>
        {
            f.Settings["AigneHub:Billing:Enabled"] = "true";
            f.Settings["AigneHub:Billing:WelcomeCredits"] = "0";
            f.Settings["AigneHub:Billing:PaymentLink"] = "https://pay.example/credits";
            configure?.Invoke(f);
        }));

    public async Task<Guid> CreateUserAsync(string? email = null)
    {
        await using var scope = Api.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var user = new User { Email = email ?? $"u{Guid.NewGuid():N}@test.local", CreatedAt = DateTimeOffset.UtcNow };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    /// <summary>Creates a rate through the admin API (raw JSON, so numbers stay exactly as written).</summary>
    public async Task<JsonObject> AddRateAsync(ModelTarget target, string inputRate, string outputRate, string? extra = null)
    {
        var json = $$"""{"provider":"{{target.Kind.Name}}","model":"{{target.Model}}","type":"{{target.Type.ToString().ToLowerInvariant()}}","inputRate":{{inputRate}},"outputRate":{{outputRate}}{{extra}}}""";
        using var response = await Owner.PostAsync("/api/admin/model-rates", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    public async Task GrantAsync(Guid userId, string amount, string category = "paid")
    {
        using var response = await Owner.PostAsJsonAsync($"/api/admin/users/{userId}/credits/grants", new { amount, category });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static CallContext Context(Guid userId, ApiSurface surface = ApiSurface.V2, string model = "openai/gpt-test") => new()
    {
        UserId = userId,
        Surface = surface,
        RequestedModel = model,
        Type = ModelType.Chat,
        RequestId = Guid.NewGuid().ToString("N"),
        StartedAt = DateTimeOffset.UtcNow,
    };

    public static CallResult Success(ModelTarget target, int input, int output, int cacheWrite = 0, int cacheRead = 0) => new()
    {
        Success = true,
        Target = target,
        Usage = new TokenUsage { InputTokens = input, OutputTokens = output, CacheCreationInputTokens = cacheWrite, CacheReadInputTokens = cacheRead },
        StatusCode = 200,
        Duration = TimeSpan.FromMilliseconds(120),
        GatewayTimeToFirstByte = TimeSpan.FromMilliseconds(40),
        ProviderTimeToFirstByte = TimeSpan.FromMilliseconds(35),
    };

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Api.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        var result = await cmd.ExecuteScalarAsync();
        return result is DBNull or null ? default! : result is T typed ? typed : (T)Convert.ChangeType(result, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<CreditAccount> AccountAsync(Guid userId)
    {
        await using var scope = Api.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        return await db.Set<CreditAccount>().AsNoTracking().SingleAsync(a => a.UserId == userId);
    }

    /// <summary>The user's one call, once it is no longer processing (the settlement runs after the response ends).</summary>
    public async Task<ModelCall> WaitForSettledAsync(Guid userId) => Assert.Single(await SettledCallsAsync(userId));

    /// <summary>The user's calls once there are at least <paramref name="count"/> and none is processing (a served
    /// answer ends for its caller before its settlement commits).</summary>
    public async Task<List<ModelCall>> SettledCallsAsync(Guid userId, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var calls = await CallsAsync(userId);
            if (calls.Count >= count && calls.All(c => c.Status != ModelCallStatus.Processing))
            {
                return calls;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"{calls.Count(c => c.Status == ModelCallStatus.Processing)} of {calls.Count} calls still processing after 15 s");
            }
            await Task.Delay(50);
        }
    }

    public async Task<List<ModelCall>> CallsAsync(Guid userId)
    {
        await using var scope = Api.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        return await db.Set<ModelCall>().AsNoTracking().Where(c => c.UserId == userId).ToListAsync();
    }

    /// <summary>Σ debits (positive) of the user's ledger.</summary>
    public Task<decimal> DebitsAsync(Guid userId) =>
        ScalarAsync<decimal>("SELECT coalesce(-sum(amount), 0) FROM aignehub.credit_ledger WHERE user_id = @u AND kind = 'debit'", ("u", userId));

    public CreditAccounts Accounts => Api.Services.GetRequiredService<CreditAccounts>();

    /// <summary>A grant straight through <see cref="CreditAccounts"/> (any expiry, past ones included).</summary>
    public Task<CreditGrant> GrantAsync(Guid userId, decimal amount, GrantCategory category, DateTimeOffset? expiresAt) =>
        Accounts.GrantAsync(userId, amount, category, expiresAt, null, null, CancellationToken.None);

    /// <summary>
    /// One served call costing exactly <paramref name="promptTokens"/> × 0.001 credits, given the rate
    /// <c>Gpt: input 0.001, output 0</c> (see <see cref="AddFlatRateAsync"/>); the reservation equals the cost.
    /// </summary>
    public async Task ChargeAsync(Guid userId, int promptTokens)
    {
        var ticket = await Recorder.StartAsync(Context(userId), [Gpt], new CallEstimate { PromptTokens = promptTokens, MaxOutputTokens = 1 }, CancellationToken.None);
        await Recorder.CompleteAsync(ticket, Success(Gpt, promptTokens, 0), CancellationToken.None);
    }

    public Task AddFlatRateAsync() => AddRateAsync(Gpt, "0.001", "0");

    public Task<decimal> LedgerSumAsync(Guid userId) =>
        ScalarAsync<decimal>("SELECT coalesce(sum(amount), 0) FROM aignehub.credit_ledger WHERE user_id = @u", ("u", userId));

    /// <summary>Σ remaining of the user's grants.</summary>
    public Task<decimal> RemainingAsync(Guid userId) =>
        ScalarAsync<decimal>("SELECT coalesce(sum(remaining), 0) FROM aignehub.credit_grants WHERE user_id = @u", ("u", userId));

    public Task<decimal> GrantRemainingAsync(Guid grantId) =>
        ScalarAsync<decimal>("SELECT remaining FROM aignehub.credit_grants WHERE id = @g", ("g", grantId));

    /// <summary>Asserts the admin routes' common error shape: <c>{"error":{"message","type","param"}}</c>.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, System.Net.HttpStatusCode status, string type, string? param)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.True(error.ContainsKey("param"), "'param' is always present (null when no single field is at fault).");
    }

    public ValueTask DisposeAsync() => Api.DisposeAsync();
}

/// <summary>
/// <see cref="ICallRecorder"/> for tests that speak in tickets: a refusal is thrown as the gateway's own mapping of it
/// (<see cref="GatewayErrors.FromRefusal"/>), i.e. the status, type and link a caller would be answered with.
/// </summary>
public sealed class AdmittingRecorder(ICallRecorder inner)
{
    public async ValueTask<CallTicket> StartAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, CancellationToken cancellationToken)
    {
        var admission = await inner.StartAsync(context, candidates, estimate, cancellationToken);
        return admission.Admitted ? admission.Ticket : throw GatewayErrors.FromRefusal(admission.Refusal);
    }

    public ValueTask CompleteAsync(CallTicket ticket, CallResult result, CancellationToken cancellationToken) =>
        inner.CompleteAsync(ticket, result, cancellationToken);
}
