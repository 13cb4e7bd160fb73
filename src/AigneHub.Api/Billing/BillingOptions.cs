using Microsoft.Extensions.Options;

namespace AigneHub.Api.Billing;

/// <summary>Configuration <c>AigneHub:Billing</c>.</summary>
public sealed class BillingOptions
{
    public const string Section = "AigneHub:Billing";

    /// <summary>Credit billing (service provider). Off = enterprise self-hosting: no credit gate, usage and credits
    /// still recorded.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Promotional credits every user receives once, when their credit account is first used.</summary>
    public decimal WelcomeCredits { get; set; }

    /// <summary>Where a user buys credits; returned with 402 and by <c>GET /api/v2/credits</c>.</summary>
    public string? PaymentLink { get; set; }

    /// <summary>Output tokens assumed for the reservation when the caller sets no maximum.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 4096;

    /// <summary>Seconds assumed for the reservation of a video call.</summary>
    public int DefaultMaxVideoSeconds { get; set; } = 60;

    /// <summary>How often the Api renews the lease (<c>last_activity_at</c>) of each call it is serving. The Worker's
    /// <c>StaleCallMinutes</c> must be several times this: it closes only calls whose lease lapsed.</summary>
    public int CallLeaseSeconds { get; set; } = 60;

    /// <summary>The longest a call may run: the Api ends it cleanly then (a stream gets the protocol's error event,
    /// and what was delivered is billed).</summary>
    public int MaxCallMinutes { get; set; } = 120;

    /// <summary>How long a request waits for its settlement when the database is slow or away. A settlement not
    /// taken by then is kept in memory and retried until it is (<see cref="PendingSettlements"/>); the request ends.</summary>
    public int SettleSeconds { get; set; } = 5;

    /// <summary>The most settlements of served calls that run on after their requests have ended
    /// (<see cref="DetachedSettlements"/>). At the bound a request waits for its own settlement, so callers cannot
    /// outrun the ledger: the backlog is bounded. 0: every request waits for its settlement.</summary>
    public int MaxDetachedSettlements { get; set; } = 1_024;

    /// <summary>The most settlements one Api keeps while the database is away; beyond them a call is left to the
    /// Worker's stale-call cleanup (failed, uncharged).</summary>
    public int PendingSettlementCapacity { get; set; } = 100_000;
}

/// <summary>Configuration <c>AigneHub:RateLimits</c>: 0 (the default) switches a limit off.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "AigneHub:RateLimits";

    public RateLimit PerKey { get; set; } = new();

    public RateLimit PerUser { get; set; } = new();

    public bool Any => PerKey.Any || PerUser.Any;

    public bool AnyTokens => PerKey.TokensPerMinute > 0 || PerUser.TokensPerMinute > 0;
}

public sealed class RateLimit
{
    public int RequestsPerMinute { get; set; }

    public int TokensPerMinute { get; set; }

    public bool Any => RequestsPerMinute > 0 || TokensPerMinute > 0;
}

internal sealed class ValidateBillingOptions : IValidateOptions<BillingOptions>, IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, BillingOptions options)
    {
        List<string> problems = [];
        if (options.WelcomeCredits < 0)
        {
            problems.Add($"{BillingOptions.Section}:WelcomeCredits must be 0 or more.");
        }
        if (options.DefaultMaxOutputTokens is < 1 or > 10_000_000)
        {
            problems.Add($"{BillingOptions.Section}:DefaultMaxOutputTokens must be between 1 and 10000000.");
        }
        if (options.DefaultMaxVideoSeconds is < 1 or > 86_400)
        {
            problems.Add($"{BillingOptions.Section}:DefaultMaxVideoSeconds must be between 1 and 86400.");
        }
        if (options.CallLeaseSeconds is < 1 or > 3_600)
        {
            problems.Add($"{BillingOptions.Section}:CallLeaseSeconds must be between 1 and 3600.");
        }
        if (options.MaxCallMinutes is < 1 or > 10_080)
        {
            problems.Add($"{BillingOptions.Section}:MaxCallMinutes must be between 1 and 10080 (a week).");
        }
        if (options.SettleSeconds is < 1 or > 300)
        {
            problems.Add($"{BillingOptions.Section}:SettleSeconds must be between 1 and 300.");
        }
        if (options.MaxDetachedSettlements is < 0 or > 1_000_000)
        {
            problems.Add($"{BillingOptions.Section}:MaxDetachedSettlements must be between 0 and 1000000.");
        }
        if (options.PendingSettlementCapacity is < 0 or > 10_000_000)
        {
            problems.Add($"{BillingOptions.Section}:PendingSettlementCapacity must be between 0 and 10000000.");
        }
        if (options.PaymentLink is { Length: > 0 } link && !Uri.TryCreate(link, UriKind.Absolute, out _))
        {
            problems.Add($"{BillingOptions.Section}:PaymentLink must be an absolute URL.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        List<string> problems = [];
        foreach (var (scope, limit) in new[] { ("PerKey", options.PerKey), ("PerUser", options.PerUser) })
        {
            if (limit.RequestsPerMinute < 0)
            {
                problems.Add($"{RateLimitOptions.Section}:{scope}:RequestsPerMinute must be 0 (off) or more.");
            }
            if (limit.TokensPerMinute < 0)
            {
                problems.Add($"{RateLimitOptions.Section}:{scope}:TokensPerMinute must be 0 (off) or more.");
            }
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
