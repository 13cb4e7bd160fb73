using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every AigneHub service shares: OpenTelemetry over OTLP, health endpoints, service discovery and the
/// standard resilience handler for <em>internal</em> HTTP calls. Provider calls never use these defaults: they
/// register their own named client (long idle timeout, no POST retries) in the Api.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Tag on health checks that only say "the process runs" (served on <c>/alive</c>).</summary>
    public const string LiveTag = "live";

    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Internal service-to-service calls only (e.g. Admin -> Api). Provider clients opt out by registering
            // their own named client with its own handler pipeline. Only safe methods are retried: a retried POST
            // (a credit grant, a new key) could be applied twice.
            http.AddStandardResilienceHandler(o => o.Retry.DisableForUnsafeHttpMethods());
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("AigneHub.*"))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource("AigneHub.*")
                .AddAspNetCoreInstrumentation(o =>
                    // Health probes every few seconds would drown the real traffic in the dashboard.
                    o.Filter = ctx => !ctx.Request.Path.StartsWithSegments(HealthPath)
                                      && !ctx.Request.Path.StartsWithSegments(AlivePath))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Outside Development, browsers are told to use https only (HSTS, 180 days; the middleware skips localhost).
    /// Behind a TLS-terminating proxy the header is sent once forwarded headers mark the request as https.
    /// </summary>
    public static WebApplication UseTransportSecurity(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }
        return app;
    }

    /// <summary>
    /// <c>/alive</c>: the process answers. <c>/health</c>: ready to serve, every dependency answers. A
    /// <em>Degraded</em> check (e.g. migrations not yet applied) makes <c>/health</c> answer 503, so that
    /// orchestrators and <c>WaitFor</c> hold dependants back until it is Healthy. Health is unauthenticated, so its
    /// body is the overall status only; callers that satisfy <paramref name="detailsPolicy"/> (the admins) also get
    /// each check by name, status and duration. Exception text is never written.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, string? detailsPolicy = null)
    {
        app.MapHealthChecks(HealthPath, new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = (context, report) => WriteHealthReportAsync(context, report, detailsPolicy),
        }).AllowAnonymous();
        app.MapHealthChecks(AlivePath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag),
        }).AllowAnonymous();
        return app;
    }

    private static async Task WriteHealthReportAsync(HttpContext context, HealthReport report, string? detailsPolicy)
    {
        var details = detailsPolicy is not null && context.User.Identity?.IsAuthenticated == true
            && (await context.RequestServices.GetRequiredService<IAuthorizationService>().AuthorizeAsync(context.User, detailsPolicy)).Succeeded;
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = details
            ? new HealthReportDto(report.Status.ToString(), report.TotalDuration.TotalMilliseconds,
                report.Entries.Select(e => new HealthEntryDto(e.Key, e.Value.Status.ToString(), e.Value.Description,
                    e.Value.Duration.TotalMilliseconds)).ToList())
            : new HealthReportDto(report.Status.ToString(), null, null);
        await JsonSerializer.SerializeAsync(context.Response.Body, body, HealthJsonContext.Default.HealthReportDto,
            context.RequestAborted);
    }
}

/// <summary>The JSON body of <c>/health</c>; the Admin reads the same type. Anonymous callers get <see cref="Status"/> only.</summary>
public sealed record HealthReportDto(string Status, double? DurationMs, IReadOnlyList<HealthEntryDto>? Checks);

public sealed record HealthEntryDto(string Name, string Status, string? Description, double DurationMs);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReportDto))]
public sealed partial class HealthJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
