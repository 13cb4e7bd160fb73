using AigneHub.Api.Infrastructure;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Abuse;

/// <summary>
/// What an unauthenticated client can cost the hub: per-address limits on anonymous routes
/// (<see cref="ClientRateLimits"/>), on made-up credentials (<see cref="UnknownCredentialGuard"/>), and bounded
/// bodies on the management routes. The client address comes from trusted proxies only
/// (<see cref="TrustedProxyOptions"/>). Configuration: <c>AigneHub:ClientLimits</c>, <c>AigneHub:ForwardedHeaders</c>.
/// </summary>
public static class AbuseExtensions
{
    public static IHostApplicationBuilder AddClientLimits(this IHostApplicationBuilder builder)
    {
        builder.AddTrustedProxies();
        builder.Services.AddOptions<ClientLimitOptions>().BindConfiguration(ClientLimitOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClientLimitOptions>, ValidateClientLimitOptions>();
        ClientRateLimits.AddClientRateLimits(builder.Services);
        builder.Services.AddSingleton<UnknownCredentialGuard>();
        return builder;
    }

    /// <summary>
    /// Bodies of at most <see cref="ClientLimitOptions.ManagementBodyBytes"/> on every route of the group. The
    /// limit is the endpoint's request-size metadata, which routing applies to the body stream (so a chunked body
    /// without a length is cut off too); a body over it is a 413 in the management error shape, never a 500.
    /// </summary>
    public static RouteGroupBuilder WithBoundedBodies(this RouteGroupBuilder group)
    {
        var limit = ((IEndpointRouteBuilder)group).ServiceProvider.GetRequiredService<IOptions<ClientLimitOptions>>().Value.ManagementBodyBytes;
        group.WithMetadata(new BodySizeLimit(limit));
        group.AddEndpointFilter(async (context, next) =>
        {
            if (context.HttpContext.Request.ContentLength > limit)
            {
                return TooLarge(limit);
            }
            try
            {
                return await next(context);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.HttpContext.Response.HasStarted)
            {
                return TooLarge(limit);
            }
        });
        return group;
    }

    private static IResult TooLarge(int limit) => ApiErrors.Result(StatusCodes.Status413PayloadTooLarge,
        $"The request body is larger than {limit} bytes, the most this route accepts.", ErrorTypes.InvalidRequest);

    private sealed record BodySizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
