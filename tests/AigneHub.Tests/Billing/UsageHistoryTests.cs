using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AigneHub.Api.Billing;
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

    [Fact]
    public async Task A_status_filter_on_a_range_older_than_retention_is_refused_by_name()
    {
        await using var host = await BillingHost.StartAsync();
        var now = DateTimeOffset.UtcNow;

        using var response = await host.Owner.GetAsync($"/api/admin/usage/trends?status=success&from={Iso(now.AddDays(-200))}&to={Iso(now)}");

        await BillingHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "status");
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
