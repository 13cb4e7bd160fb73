using System.Diagnostics;

namespace AigneHub.Bench;

/// <summary>One AigneHub Api under test, with its own database and Redis database, the fake provider set up through
/// its admin routes, and <see cref="Accounts"/> members, each with credits and one access key.</summary>
internal sealed class Gateway(string repositoryRoot, string tempRoot, string name, string database, string redis) : IServiceSite
{
    public const int Accounts = 32;

    public string RepositoryRoot { get; } = repositoryRoot;

    public string TempRoot { get; } = tempRoot;

    public string Name { get; } = name;

    public string Database { get; } = database;

    public string Redis { get; } = redis;

    public Service Api { get; private set; } = null!;

    public IReadOnlyList<Hub.Member> Members { get; private set; } = [];

    public static async Task<Gateway> StartAsync(RunFolder folder, PostgresServer postgres, RedisServer redis, int redisDatabase, string name,
        bool billing, FakeUpstream upstream)
    {
        var gateway = new Gateway(folder.RepositoryRoot, folder.TempRoot, name, await postgres.CreateDatabaseAsync("bench_" + name.Replace('-', '_')),
            redis.ConnectionString(redisDatabase));
        gateway.Api = Service.Api(gateway, name, new Dictionary<string, string>
        {
            ["AigneHub__Billing__Enabled"] = billing ? "true" : "false",
            // The deployed lease (the drills shorten it to 5 s so a dead Api's calls close quickly).
            ["AigneHub__Billing__CallLeaseSeconds"] = "60",
            // Rate limits on (so each call runs the Redis check), far above any rate this machine reaches.
            ["AigneHub__RateLimits__PerKey__RequestsPerMinute"] = "1000000000",
            ["AigneHub__RateLimits__PerUser__RequestsPerMinute"] = "1000000000",
        });
        await gateway.Api.StartAsync();
        await Hub.AddProviderAsync(gateway.Api.BaseUrl, upstream);
        var members = new List<Hub.Member>();
        for (var i = 0; i < Accounts; i++)
        {
            members.Add(await Hub.AddMemberAsync(gateway.Api.BaseUrl, credits: 100_000_000m));
        }
        gateway.Members = members;
        return gateway;
    }
}

/// <summary>What a load is sent to: the provider itself (direct), the floor, or an Api; the process whose CPU and
/// memory are its cost (none for direct: the fake provider runs inside the benchmark).</summary>
internal sealed record Target(string Name, Uri BaseUrl, string Path, Process? Server, Gateway? Gateway)
{
    public const string Direct = "direct";
    public const string Floor = "floor";
    public const string Governed = "governed";
    public const string BillingOff = "billing-off";

    public string Body(bool stream) =>
        $$"""{"model":"{{(Gateway is null ? "gpt-4o-mini" : Hub.Model)}}","stream":{{(stream ? "true" : "false")}},{{(stream ? "\"stream_options\":{\"include_usage\":true}," : "")}}"max_tokens":50,"messages":[{"role":"user","content":"Say five words."}]}""";

    public IReadOnlyList<string> Keys(int accounts) => Gateway is null ? ["none"] : [.. Gateway.Members.Take(accounts).Select(m => m.Key)];
}
