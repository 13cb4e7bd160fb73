using AigneHub.Contracts.Billing;
using AigneHub.Contracts.Usage;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Billing;

public static class BillingExtensions
{
    /// <summary>
    /// The money path: <see cref="ICallRecorder"/> (call records, reservations, settlement), the rate cache
    /// <see cref="IRateCatalog"/>, Redis rate limits <see cref="IRateLimiter"/>, and credit accounts.
    /// Configuration: <c>AigneHub:Billing</c>, <c>AigneHub:RateLimits</c>.
    /// </summary>
    public static IHostApplicationBuilder AddBilling(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BillingOptions>().BindConfiguration(BillingOptions.Section).ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        services.AddSingleton<ValidateBillingOptions>();
        services.AddSingleton<IValidateOptions<BillingOptions>>(sp => sp.GetRequiredService<ValidateBillingOptions>());
        services.AddSingleton<IValidateOptions<RateLimitOptions>>(sp => sp.GetRequiredService<ValidateBillingOptions>());

        services.AddSingleton<RateCatalog>();
        services.AddSingleton<IRateCatalog>(sp => sp.GetRequiredService<RateCatalog>());
        services.AddSingleton<IRateLimiter, RedisRateLimiter>();
        services.AddSingleton<CreditAccounts>();
        services.AddSingleton<ICallRecorder, CallRecorder>();
        services.AddSingleton<BillingTelemetry>();
        services.AddSingleton<CallLeases>();
        services.AddHostedService(sp => sp.GetRequiredService<CallLeases>());
        services.AddSingleton<CallStarts>();
        services.AddSingleton<CallSettlements>();
        services.AddSingleton<PendingSettlements>();
        services.AddHostedService(sp => sp.GetRequiredService<PendingSettlements>());
        // After PendingSettlements, so that it stops first: the settlements still running may keep some for the last try.
        services.AddSingleton<DetachedSettlements>();
        services.AddHostedService(sp => sp.GetRequiredService<DetachedSettlements>());
        // The credits, rates and usage routes answer with the shared wire contracts' source-generated metadata.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, BillingJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, UsageJsonContext.Default);
        });
        return builder;
    }

    /// <summary>Credits, grants and model rates.</summary>
    public static IEndpointRouteBuilder MapBillingApi(this IEndpointRouteBuilder app)
    {
        app.MapCreditsApi();
        app.MapModelRatesApi();
        app.MapMeterEventsApi();
        return app;
    }
}
