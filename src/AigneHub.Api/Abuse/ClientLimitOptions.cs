using Microsoft.Extensions.Options;

namespace AigneHub.Api.Abuse;

/// <summary>
/// Configuration <c>AigneHub:ClientLimits</c>: what one client address (an IPv4 address, or an IPv6 /64) may cost
/// the hub before it has proved who it is. Counted in Redis, so the limits hold across every Api replica.
/// </summary>
public sealed class ClientLimitOptions
{
    public const string Section = "AigneHub:ClientLimits";

    /// <summary>Anonymous writes per minute: password and wallet sign-in, wallet challenges, SSO exchanges, connect
    /// sessions. Each costs a PBKDF2 run, a Redis key or a token validation; a person needs a handful a day.</summary>
    public int SignInPerMinute { get; set; } = 30;

    /// <summary>Anonymous reads per minute: sign-in methods, hub discovery, the model directory, connect polling
    /// (a CLI polls about every 2 s), health, the OpenAPI document.</summary>
    public int ReadsPerMinute { get; set; } = 600;

    /// <summary>Credentials (bearer tokens, <c>x-app-id</c>s) per minute that turn out not to exist. Each costs a
    /// database query; a working client never sends one, a misconfigured one sends the same one (cached below).</summary>
    public int UnknownCredentialsPerMinute { get; set; } = 30;

    /// <summary>How many unknown credentials each replica remembers (for <see cref="NegativeCacheFor"/>), so a
    /// repeated one costs nothing. Bounded so that a flood of distinct ones cannot grow memory.</summary>
    public int NegativeCacheEntries { get; set; } = 10_000;

    public TimeSpan NegativeCacheFor { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class ValidateClientLimitOptions : IValidateOptions<ClientLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientLimitOptions options)
    {
        List<string> problems = [];
        Positive(problems, nameof(options.SignInPerMinute), options.SignInPerMinute);
        Positive(problems, nameof(options.ReadsPerMinute), options.ReadsPerMinute);
        Positive(problems, nameof(options.UnknownCredentialsPerMinute), options.UnknownCredentialsPerMinute);
        Positive(problems, nameof(options.NegativeCacheEntries), options.NegativeCacheEntries);
        if (options.NegativeCacheFor < TimeSpan.FromSeconds(1) || options.NegativeCacheFor > TimeSpan.FromHours(1))
        {
            problems.Add($"{ClientLimitOptions.Section}:NegativeCacheFor must be between 00:00:01 and 01:00:00.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void Positive(List<string> problems, string key, int value)
    {
        if (value < 1)
        {
            problems.Add($"{ClientLimitOptions.Section}:{key} must be at least 1.");
        }
    }
}
