using System.Diagnostics;
using AigneHub.Api.Billing;
using AigneHub.Data.Billing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace AigneHub.Tests.Billing;

/// <summary>
/// What the money path adds to a request: <c>StartAsync</c> + <c>CompleteAsync</c> against the real Postgres and
/// Redis, sequentially (latency, not throughput), with and without credit billing, beside a bare Postgres round
/// trip for scale. Prints figures for docs/designs/billing.md; asserts only that every call was recorded.
/// </summary>
public sealed class MoneyPathBenchmark(ITestOutputHelper output)
{
    private const int Warmup = 100;
    private const int Measured = 500;

    [Fact]
    public async Task Money_path_cost_per_request_with_and_without_billing()
    {
        foreach (var billing in new[] { true, false })
        {
            await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:Enabled"] = billing ? "true" : "false");
            var user = await host.CreateUserAsync();
            await host.AddRateAsync(BillingHost.Gpt, "0.000001", "0.000002");
            await host.GrantAsync(user, "1000000");
            var recorder = host.Recorder;
            var estimate = new CallEstimate { PromptTokens = 500, MaxOutputTokens = 1000 };
            var result = BillingHost.Success(BillingHost.Gpt, 500, 700);
            var database = host.Api.Services.GetRequiredService<NpgsqlDataSource>();

            var start = new List<double>(Measured);
            var complete = new List<double>(Measured);
            var roundTrip = new List<double>(Measured);
            for (var i = 0; i < Warmup + Measured; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var ticket = await recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], estimate, CancellationToken.None);
                var t1 = Stopwatch.GetTimestamp();
                await recorder.CompleteAsync(ticket, result, CancellationToken.None);
                var t2 = Stopwatch.GetTimestamp();
                await using (var cmd = database.CreateCommand("SELECT 1"))
                {
                    await cmd.ExecuteScalarAsync();
                }
                var t3 = Stopwatch.GetTimestamp();
                if (i >= Warmup)
                {
                    start.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds);
                    complete.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds);
                    roundTrip.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMicroseconds);
                }
            }

            output.WriteLine($"billing {(billing ? "on " : "off")}: start {Describe(start)} | complete {Describe(complete)} | " +
                $"total {Describe(start.Zip(complete, (a, b) => a + b).ToList())} | bare SELECT 1 {Describe(roundTrip)}");
            Assert.Equal(Warmup + Measured, (await host.CallsAsync(user)).Count(c => c.Status == ModelCallStatus.Success));
        }
    }

    private static string Describe(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return $"mean {sorted.Average():F0} µs, p50 {sorted[sorted.Count / 2]:F0} µs, p95 {sorted[(int)(sorted.Count * 0.95)]:F0} µs";
    }
}
