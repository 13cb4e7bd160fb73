using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AigneHub.Api.Billing;
using AigneHub.Api.Usage;
using AigneHub.Contracts.Usage;
using AigneHub.Tests.Worker;
using AigneHub.Worker.Jobs;
using Microsoft.Extensions.Time.Testing;

namespace AigneHub.Tests.Billing;

/// <summary>
/// Usage trends older than retention are served from the Worker's rollups (issue 11, item 10): the same figures
/// before and after retention deleted the raw calls, each equal to the sums of the calls the test made; recent
/// buckets still come from the raw calls, counted once.
/// </summary>
public sealed class UsageHistoryTests
{
    private const int Prompt = 10;
    private const int Completion = 5;
    private const decimal PerCall = Prompt * 0.001m + Completion * 0.002m;

    [Fact]
    public async Task Trends_older_than_retention_come_from_rollups_and_equal_the_raw_calls_they_replaced()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "100");
        var now = DateTimeOffset.UtcNow;
        DateTimeOffset[] startedAt =
        [
            now.AddDays(-100), now.AddDays(-100), now.AddDays(-100).AddHours(3), now.AddDays(-100).AddHours(3), now.AddDays(-100).AddHours(3),
            now.AddDays(-97), now.AddDays(-2),
        ];
        foreach (var at in startedAt)
        {
            var ticket = await host.Recorder.StartAsync(BillingHost.Context(user) with { StartedAt = at }, [BillingHost.Gpt],
                new CallEstimate { PromptTokens = Prompt, MaxOutputTokens = Completion }, CancellationToken.None);
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, Prompt, Completion), CancellationToken.None);
        }
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now));
        await worker.Job<UsageRollupJob>().RunOnceAsync(CancellationToken.None);

        var daily = $"/api/admin/usage/trends?userId={user}&granularity=day&from={Iso(now.AddDays(-101))}&to={Iso(now)}";
        // Local time 8 h ahead of UTC (JavaScript's offset −480): hour buckets cut in that time.
        var hourly = $"/api/admin/usage/trends?userId={user}&granularity=hour&timezoneOffset=-480&from={Iso(now.AddDays(-101))}&to={Iso(now.AddDays(-99))}";
        var dailyBefore = await TrendsAsync(host, daily);
        var hourlyBefore = await TrendsAsync(host, hourly);

        // Retention (90 days by default) deletes the old raw calls; only the rollups remember them.
        await worker.Job<RetentionJob>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM aignehub.model_calls WHERE user_id = @u", ("u", user)));
        var dailyAfter = await TrendsAsync(host, daily);
        var hourlyAfter = await TrendsAsync(host, hourly);

        var expectedDaily = Expected(startedAt, at => new DateTimeOffset(at.UtcDateTime.Date, TimeSpan.Zero));
        var local = TimeSpan.FromHours(8);
        var expectedHourly = Expected(startedAt.Where(at => at < now.AddDays(-99)), at =>
        {
            var t = at.ToOffset(local);
            return new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, local);
        });
        Assert.Equal(expectedDaily, dailyBefore);
        Assert.Equal(expectedDaily, dailyAfter);
        Assert.Equal(expectedHourly, hourlyBefore);
        Assert.Equal(expectedHourly, hourlyAfter);
    }

    /// <summary>
    /// Issue 13's analytics: inside retention the trends read the rollups for every hour before the rollups' last run
    /// and the raw calls only after it. Shown by deleting the raw calls the rollups cover: the trend still counts
    /// them; a call made after the run counts at once; a status filter (which the rollups do not keep) still reads
    /// the raw calls.
    /// </summary>
    [Fact]
    public async Task Trends_inside_retention_read_the_rollups_up_to_their_last_run_and_the_raw_calls_after_it()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "100");
        var now = DateTimeOffset.UtcNow;
        var thisHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        DateTimeOffset[] before = [now.AddDays(-20), now.AddDays(-20), now.AddDays(-3), thisHour.AddHours(-5).AddMinutes(7)];
        foreach (var at in before)
        {
            await CallAsync(host, user, at);
        }
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now));
        await worker.Job<UsageRollupJob>().RunOnceAsync(CancellationToken.None);
        // The raw calls of the hours the rollups cover go (as if deleted); only the rollups still know them.
        Assert.Equal(before.Length, await host.ScalarAsync<int>(
            "WITH d AS (DELETE FROM aignehub.model_calls WHERE user_id = @u AND created_at < @h RETURNING 1) SELECT count(*) FROM d", ("u", user), ("h", thisHour)));
        DateTimeOffset[] after = [now, now];
        foreach (var at in after)
        {
            await CallAsync(host, user, at);
        }

        var daily = $"/api/admin/usage/trends?userId={user}&granularity=day&from={Iso(now.AddDays(-30))}&to={Iso(now.AddMinutes(1))}";
        var hourly = $"/api/admin/usage/trends?userId={user}&granularity=hour&from={Iso(thisHour.AddHours(-6))}&to={Iso(now.AddMinutes(1))}";
        var expectedDaily = Expected([.. before, .. after], at => new DateTimeOffset(at.UtcDateTime.Date, TimeSpan.Zero));
        var expectedHourly = Expected([before[^1], .. after], at => new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero));
        Assert.Equal(expectedDaily, await TrendsAsync(host, daily));
        Assert.Equal(expectedHourly, await TrendsAsync(host, hourly));
        // status=success cannot use the rollups: only the raw calls left (those after the run) are counted.
        Assert.Equal(Expected(after, at => new DateTimeOffset(at.UtcDateTime.Date, TimeSpan.Zero)), await TrendsAsync(host, daily + "&status=success"));
    }

    /// <summary>The call log counts at most <see cref="UsageApi.MaxCountedCalls"/> matches and then says its total is a
    /// lower bound; a filter that matches fewer is counted exactly.</summary>
    [Fact]
    public async Task The_call_log_stops_counting_past_its_limit_and_says_so()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "100");
        await CallAsync(host, user, DateTimeOffset.UtcNow.AddMinutes(-1));
        const int copies = UsageApi.MaxCountedCalls + 5;
        // Copies of the one call, each its own id and request, an hour earlier.
        Assert.Equal(copies, await host.ScalarAsync<int>("""
            CREATE TEMP TABLE copies AS SELECT m.* FROM aignehub.model_calls m, generate_series(1, @n) WHERE m.user_id = @u;
            UPDATE copies SET id = gen_random_uuid(), created_at = created_at - interval '1 hour';
            UPDATE copies SET request_id = 'copy-' || id;
            INSERT INTO aignehub.model_calls SELECT * FROM copies;
            SELECT count(*) FROM copies;
            """, ("u", user), ("n", copies)));

        var all = await host.Owner.GetFromJsonAsync<AigneHub.Contracts.PagedResponse<ModelCallResponse>>($"/api/admin/model-calls?userId={user}&pageSize=10");
        var recent = await host.Owner.GetFromJsonAsync<AigneHub.Contracts.PagedResponse<ModelCallResponse>>(
            $"/api/admin/model-calls?userId={user}&pageSize=10&from={Iso(DateTimeOffset.UtcNow.AddMinutes(-30))}");

        Assert.Equal((UsageApi.MaxCountedCalls, true, 10), (all!.Total, all.TotalIsLowerBound, all.Items.Count));
        Assert.Equal((1L, false, 1), (recent!.Total, recent.TotalIsLowerBound, recent.Items.Count));
    }

    [Fact]
    public async Task A_status_filter_on_a_range_older_than_retention_is_refused_by_name()
    {
        await using var host = await BillingHost.StartAsync();
        var now = DateTimeOffset.UtcNow;

        using var response = await host.Owner.GetAsync($"/api/admin/usage/trends?status=success&from={Iso(now.AddDays(-200))}&to={Iso(now)}");

        await BillingHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "status");
    }

    private static async Task CallAsync(BillingHost host, Guid user, DateTimeOffset at)
    {
        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user) with { StartedAt = at }, [BillingHost.Gpt],
            new CallEstimate { PromptTokens = Prompt, MaxOutputTokens = Completion }, CancellationToken.None);
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, Prompt, Completion), CancellationToken.None);
    }

    private static List<(DateTimeOffset, long, long, long, decimal)> Expected(IEnumerable<DateTimeOffset> startedAt, Func<DateTimeOffset, DateTimeOffset> bucket) =>
        [.. startedAt.GroupBy(bucket).OrderBy(g => g.Key)
            .Select(g => (g.Key, (long)g.Count(), (long)g.Count() * Prompt, (long)g.Count() * Completion, g.Count() * PerCall))];

    private static async Task<List<(DateTimeOffset, long, long, long, decimal)>> TrendsAsync(BillingHost host, string path)
    {
        var trends = await host.Owner.GetFromJsonAsync<TrendsResponse>(path);
        return [.. trends!.Buckets.Select(b => (b.Start, b.Calls, b.PromptTokens, b.CompletionTokens, b.Credits))];
    }

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));
}
