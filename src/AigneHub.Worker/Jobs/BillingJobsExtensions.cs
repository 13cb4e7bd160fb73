using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AigneHub.Worker.Jobs;

public static class BillingJobsExtensions
{
    /// <summary>Meter delivery, stale-call cleanup, grant expiry, usage rollups and retention, one hosted service each.</summary>
    public static IHostApplicationBuilder AddBillingJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddBillingJobServices(builder.Configuration);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MeterDeliveryJob>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StaleCallCleanupJob>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GrantExpiryJob>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UsageRollupJob>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RetentionJob>());
        return builder;
    }

    /// <summary>The jobs and what they need, without hosting them (tests run single ticks); their database is the
    /// data source of <see cref="WorkerDataExtensions.AddWorkerData"/>.</summary>
    public static IServiceCollection AddBillingJobServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BillingJobOptions>().Configure(o => BillingJobOptions.Bind(o, configuration)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BillingJobOptions>, ValidateBillingJobOptions>();

        // Retries are the outbox's job (with backoff and a lease); the service defaults' retry policy would only
        // hide them, so this client drops it (the API is marked experimental; it is the documented way to opt out).
#pragma warning disable EXTEXP0001
        services.AddHttpClient(HttpMeterSink.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigureHttpClient((sp, c) => c.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<BillingJobOptions>>().Value.MeterSinkTimeoutSeconds));
#pragma warning restore EXTEXP0001
        services.TryAddSingleton<IMeterSink>(sp =>
        {
            var url = sp.GetRequiredService<IOptions<BillingJobOptions>>().Value.MeterSinkUrl;
            return string.IsNullOrEmpty(url)
                ? new LedgerMeterSink()
                : new HttpMeterSink(sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpMeterSink.HttpClientName), new Uri(url));
        });
        services.AddSingleton<MeterDeliveryJob>();
        services.AddSingleton<StaleCallCleanupJob>();
        services.AddSingleton<GrantExpiryJob>();
        services.AddSingleton<UsageRollupJob>();
        services.AddSingleton<RetentionJob>();
        return services;
    }
}
