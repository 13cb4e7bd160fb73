using AigneHub.Api.Infrastructure;

namespace AigneHub.Api.Identity;

public static class IdentityRouteFilters
{
    /// <summary>
    /// For routes whose state lives in Redis (sign-in throttling, wallet nonces, connect sessions): Redis being
    /// unreachable is a 503 saying so, not a 500.
    /// </summary>
    public static RouteGroupBuilder WithRedisUnavailableAs503(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (StackExchange.Redis.RedisException)
            {
                return ApiErrors.Unavailable("Sign-in state is temporarily unavailable (Redis cannot be reached); retry shortly.");
            }
        });
        return group;
    }
}
