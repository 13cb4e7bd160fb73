using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>
/// Sign-in and sign-out against the Api (<c>/api/auth</c>), all anonymous: used by the Admin's own login endpoints
/// and by the sign-in pages (the wallet challenge), never with a user's token.
/// </summary>
public sealed class AuthApiClient(HttpClient http)
{
    public Task<LoginResponse> LoginAsync(string email, string password, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/login", new LoginRequest(email, password),
            AdminJsonContext.Default.LoginRequest, AdminJsonContext.Default.LoginResponse, ct);

    /// <summary>A single-use, 5-minute message for the DID's key to sign.</summary>
    public Task<WalletChallengeDto> WalletChallengeAsync(string did, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/wallet/challenge", new WalletChallengeRequest(did),
            AdminJsonContext.Default.WalletChallengeRequest, AdminJsonContext.Default.WalletChallengeDto, ct);

    public Task<LoginResponse> WalletVerifyAsync(string did, string nonce, string signature, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/wallet/verify", new WalletVerifyRequest(did, nonce, signature),
            AdminJsonContext.Default.WalletVerifyRequest, AdminJsonContext.Default.LoginResponse, ct);

    /// <summary>Hands the ID token of a completed OpenID Connect sign-in to the Api, which validates it itself.</summary>
    public Task<LoginResponse> OidcExchangeAsync(string idToken, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/oidc/exchange", new OidcExchangeRequest(idToken),
            AdminJsonContext.Default.OidcExchangeRequest, AdminJsonContext.Default.LoginResponse, ct);

    /// <summary>Revokes the session token. The caller passes it because the cookie is being cleared as we go.</summary>
    public async Task LogoutAsync(string token, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, ct);
    }

    /// <summary>Which extra sign-in methods are configured; none when the Api does not say.</summary>
    public async Task<AuthMethodsDto> GetMethodsAsync(CancellationToken ct = default)
    {
        try
        {
            return await GetAsync(http, "/api/auth/methods", AdminJsonContext.Default.AuthMethodsDto, ct);
        }
        catch (ApiException)
        {
            return AuthMethodsDto.PasswordOnly;
        }
    }
}

/// <summary>Users, access keys, apps and the CLI connect flow (<c>/api/admin/users</c>, <c>/api/v2/access-keys</c>, ...).</summary>
public sealed class IdentityApiClient(HttpClient http)
{
    public Task<UserDto> GetMeAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/me", AdminJsonContext.Default.UserDto, ct);

    /// <summary>One page of the audit log, newest first (owners and admins).</summary>
    public Task<AuditPageDto> ListAuditAsync(AuditQuery query, CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/audit" + query.ToQueryString(), AdminJsonContext.Default.AuditPageDto, ct);

    public Task<List<UserDto>> ListUsersAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/users", AdminJsonContext.Default.ListUserDto, ct);

    public Task<UserDto> CreateUserAsync(CreateUserRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/users", body, AdminJsonContext.Default.CreateUserRequest, AdminJsonContext.Default.UserDto, ct);

    public Task<UserDto> UpdateUserAsync(Guid id, UpdateUserRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Patch, $"/api/admin/users/{id}", body, AdminJsonContext.Default.UpdateUserRequest, AdminJsonContext.Default.UserDto, ct);

    public Task<List<AccessKeyDto>> ListMyKeysAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/access-keys", AdminJsonContext.Default.ListAccessKeyDto, ct);

    public Task<CreatedAccessKeyDto> CreateMyKeyAsync(CreateAccessKeyRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/v2/access-keys", body, AdminJsonContext.Default.CreateAccessKeyRequest,
            AdminJsonContext.Default.CreatedAccessKeyDto, ct);

    public Task RevokeMyKeyAsync(Guid id, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Delete, $"/api/v2/access-keys/{id}", ct);

    public Task<List<AppDto>> ListAppsAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/apps", AdminJsonContext.Default.ListAppDto, ct);

    public Task<CreatedAppDto> CreateAppAsync(CreateAppRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/apps", body, AdminJsonContext.Default.CreateAppRequest, AdminJsonContext.Default.CreatedAppDto, ct);

    public Task<SubscriptionDto> SetSubscriptionAsync(Guid appId, SetSubscriptionRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/apps/{appId}/subscription", body, AdminJsonContext.Default.SetSubscriptionRequest,
            AdminJsonContext.Default.SubscriptionDto, ct);

    /// <summary>Approves a CLI's pending connect session: the Api then hands the CLI a new key for the signed-in user.</summary>
    public Task ApproveConnectAsync(string sessionId, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Post, $"/api/v2/access-key/session/{Uri.EscapeDataString(sessionId)}/approve", ct);
}
