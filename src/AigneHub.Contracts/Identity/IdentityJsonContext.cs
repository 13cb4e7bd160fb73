using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Identity;

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
public sealed partial class IdentityJsonContext : JsonSerializerContext;
