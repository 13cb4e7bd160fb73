using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;

namespace AigneHub.Worker.Jobs;

/// <summary>Configuration of the Worker's billing and usage jobs (sections named per key below).</summary>
public sealed class BillingJobOptions
{
    /// <summary><c>AigneHub:Billing:StaleCallMinutes</c>: a processing call whose lease (renewed by its Api every
    /// <c>AigneHub:Billing:CallLeaseSeconds</c>, default 60) is this old is failed: its Api died.</summary>
    public int StaleCallMinutes { get; set; } = 10;

    /// <summary><c>AigneHub:Billing:CallLeaseSeconds</c>, the Apis' lease renewal interval: after the database was
    /// away, the cleanup waits two of them before closing anything, so that every live Api has renewed its leases
    /// (which it could not do during the outage) and landed the settlements it kept.</summary>
    public int CallLeaseSeconds { get; set; } = 60;

    /// <summary><c>AigneHub:Usage:RetentionDays</c>: raw calls older than this are deleted (rollups are kept).</summary>
    public int RetentionDays { get; set; } = UsageRollup.DefaultRetentionDays;

    /// <summary><c>AigneHub:Billing:MeterSink:Url</c>: forward meter events here; empty = the built-in ledger.</summary>
    public string? MeterSinkUrl { get; set; }

    /// <summary><c>AigneHub:Worker:*IntervalSeconds</c>: how often each job ticks.</summary>
    public int MeterIntervalSeconds { get; set; } = 5;

    public int CleanupIntervalSeconds { get; set; } = 60;

    public int RollupIntervalSeconds { get; set; } = 300;

    public int RetentionIntervalSeconds { get; set; } = 3600;

    /// <summary>How late after its expiry time a grant may still be spent (the expiry job's tick).</summary>
    public int GrantExpiryIntervalSeconds { get; set; } = 60;

    /// <summary>How long a claimed meter event stays with the worker that claimed it before others may retry it.</summary>
    public int MeterLeaseSeconds { get; set; } = 120;

    public int MeterBatchSize { get; set; } = 100;

    /// <summary>The longest one delivery to the sink may take; a claim's lease must be at least twice it, and no
    /// delivery starts unless it can end within its lease.</summary>
    public int MeterSinkTimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts after which an event that keeps failing moves to the dead letters.</summary>
    public int MeterMaxAttempts { get; set; } = 20;

    internal static void Bind(BillingJobOptions o, Microsoft.Extensions.Configuration.IConfiguration c)
    {
        o.StaleCallMinutes = c.GetValue("AigneHub:Billing:StaleCallMinutes", o.StaleCallMinutes);
        o.CallLeaseSeconds = c.GetValue("AigneHub:Billing:CallLeaseSeconds", o.CallLeaseSeconds);
        o.RetentionDays = c.GetValue("AigneHub:Usage:RetentionDays", o.RetentionDays);
        o.MeterSinkUrl = c["AigneHub:Billing:MeterSink:Url"];
        o.MeterIntervalSeconds = c.GetValue("AigneHub:Worker:MeterIntervalSeconds", o.MeterIntervalSeconds);
        o.CleanupIntervalSeconds = c.GetValue("AigneHub:Worker:CleanupIntervalSeconds", o.CleanupIntervalSeconds);
        o.RollupIntervalSeconds = c.GetValue("AigneHub:Worker:RollupIntervalSeconds", o.RollupIntervalSeconds);
        o.RetentionIntervalSeconds = c.GetValue("AigneHub:Worker:RetentionIntervalSeconds", o.RetentionIntervalSeconds);
        o.GrantExpiryIntervalSeconds = c.GetValue("AigneHub:Worker:GrantExpiryIntervalSeconds", o.GrantExpiryIntervalSeconds);
        o.MeterLeaseSeconds = c.GetValue("AigneHub:Worker:MeterLeaseSeconds", o.MeterLeaseSeconds);
        o.MeterBatchSize = c.GetValue("AigneHub:Worker:MeterBatchSize", o.MeterBatchSize);
        o.MeterSinkTimeoutSeconds = c.GetValue("AigneHub:Worker:MeterSinkTimeoutSeconds", o.MeterSinkTimeoutSeconds);
        o.MeterMaxAttempts = c.GetValue("AigneHub:Worker:MeterMaxAttempts", o.MeterMaxAttempts);
    }
}

internal sealed class ValidateBillingJobOptions : IValidateOptions<BillingJobOptions>
{
    public ValidateOptionsResult Validate(string? name, BillingJobOptions o)
    {
        List<string> problems = [];
        if (o.MeterSinkTimeoutSeconds < 1 || o.MeterLeaseSeconds < 2 * o.MeterSinkTimeoutSeconds)
        {
            problems.Add("AigneHub:Worker:MeterLeaseSeconds must be at least twice AigneHub:Worker:MeterSinkTimeoutSeconds (1 or more).");
        }
        if (o.MeterMaxAttempts < 1)
        {
            problems.Add("AigneHub:Worker:MeterMaxAttempts must be 1 or more.");
        }
        if (o.StaleCallMinutes < 1)
        {
            problems.Add("AigneHub:Billing:StaleCallMinutes must be 1 or more.");
        }
        if (o.RetentionDays < 1)
        {
            problems.Add("AigneHub:Usage:RetentionDays must be 1 or more.");
        }
        if (o.MeterSinkUrl is { Length: > 0 } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            problems.Add("AigneHub:Billing:MeterSink:Url must be an absolute http(s) URL.");
        }
        foreach (var (key, value) in new[]
        {
            ("MeterIntervalSeconds", o.MeterIntervalSeconds), ("CleanupIntervalSeconds", o.CleanupIntervalSeconds),
            ("RollupIntervalSeconds", o.RollupIntervalSeconds), ("RetentionIntervalSeconds", o.RetentionIntervalSeconds),
            ("GrantExpiryIntervalSeconds", o.GrantExpiryIntervalSeconds), ("CallLeaseSeconds", o.CallLeaseSeconds),
            ("MeterLeaseSeconds", o.MeterLeaseSeconds), ("MeterBatchSize", o.MeterBatchSize),
        })
        {
            if (value < 1)
            {
                problems.Add($"AigneHub:Worker:{key} must be 1 or more.");
            }
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
