using System.Text.Json;
using System.Text.Json.Serialization;
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

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(List<UserResponse>))]
[JsonSerializable(typeof(CreateAccessKeyRequest))]
[JsonSerializable(typeof(CreatedAccessKeyResponse))]
[JsonSerializable(typeof(AccessKeyResponse))]
[JsonSerializable(typeof(List<AccessKeyResponse>))]
[JsonSerializable(typeof(CreateAppRequest))]
[JsonSerializable(typeof(CreatedAppResponse))]
[JsonSerializable(typeof(SetSubscriptionRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(List<AppResponse>))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(WalletChallengeRequest))]
[JsonSerializable(typeof(WalletChallengeResponse))]
[JsonSerializable(typeof(WalletVerifyRequest))]
[JsonSerializable(typeof(OidcExchangeRequest))]
[JsonSerializable(typeof(AuthMethodsResponse))]
[JsonSerializable(typeof(ConnectSessionResponse))]
[JsonSerializable(typeof(ConnectStatusResponse))]
[JsonSerializable(typeof(ConnectApprovedResponse))]
[JsonSerializable(typeof(ConnectSessionRequest))]
[JsonSerializable(typeof(ConnectApproveRequest))]
[JsonSerializable(typeof(ConnectRequestResponse))]
[JsonSerializable(typeof(CreateInvitationRequest))]
[JsonSerializable(typeof(InvitationResponse))]
[JsonSerializable(typeof(InvitationsResponse))]
public sealed partial class IdentityJsonContext : JsonSerializerContext;
