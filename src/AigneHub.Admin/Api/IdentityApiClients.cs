using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>
/// Sign-in and sign-out against the Api (<c>/api/auth</c>), all anonymous: used by the Admin's own login endpoints
/// and by the sign-in pages (the wallet challenge), never with a user's token.
/// </summary>
public sealed class AuthApiClient(HttpClient http)
{
    /// <summary>What the sign-in page offers until (or unless) the Api says more.</summary>
    public static readonly AuthMethodsResponse PasswordOnly = new(true, false, new OidcMethodResponse(false, null), "closed");

    public Task<SessionResponse> LoginAsync(string email, string password, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/login", new LoginRequest(email, password),
            IdentityJsonContext.Default.LoginRequest, IdentityJsonContext.Default.SessionResponse, ct);

    /// <summary>A single-use, 5-minute message for the DID's key to sign.</summary>
    public Task<WalletChallengeResponse> WalletChallengeAsync(string did, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/wallet/challenge", new WalletChallengeRequest(did),
            IdentityJsonContext.Default.WalletChallengeRequest, IdentityJsonContext.Default.WalletChallengeResponse, ct);

    public Task<SessionResponse> WalletVerifyAsync(string did, string nonce, string signature, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/wallet/verify", new WalletVerifyRequest(did, nonce, signature),
            IdentityJsonContext.Default.WalletVerifyRequest, IdentityJsonContext.Default.SessionResponse, ct);

    /// <summary>Hands the ID token of a completed OpenID Connect sign-in to the Api, which validates it itself.</summary>
    public Task<SessionResponse> OidcExchangeAsync(string idToken, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/auth/oidc/exchange", new OidcExchangeRequest(idToken),
            IdentityJsonContext.Default.OidcExchangeRequest, IdentityJsonContext.Default.SessionResponse, ct);

    /// <summary>Revokes the session token. The caller passes it because the cookie is being cleared as we go.</summary>
    public async Task LogoutAsync(string token, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, ct);
    }

    /// <summary>Which extra sign-in methods are configured; none when the Api does not say.</summary>
    public async Task<AuthMethodsResponse> GetMethodsAsync(CancellationToken ct = default)
    {
        try
        {
            return await GetAsync(http, "/api/auth/methods", IdentityJsonContext.Default.AuthMethodsResponse, ct);
        }
        catch (ApiException)
        {
            return PasswordOnly;
        }
    }
}

/// <summary>Users, access keys, apps and the CLI connect flow (<c>/api/admin/users</c>, <c>/api/v2/access-keys</c>, ...).</summary>
public sealed class IdentityApiClient(HttpClient http)
{
    public Task<UserResponse> GetMeAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/me", IdentityJsonContext.Default.UserResponse, ct);

    /// <summary>One page of the audit log, newest first (owners and admins).</summary>
    public Task<AuditPageResponse> ListAuditAsync(AuditQuery query, CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/audit" + query.ToQueryString(), AuditJsonContext.Default.AuditPageResponse, ct);

    public Task<List<UserResponse>> ListUsersAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/users", IdentityJsonContext.Default.ListUserResponse, ct);

    public Task<UserResponse> CreateUserAsync(CreateUserRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/users", body, IdentityJsonContext.Default.CreateUserRequest, IdentityJsonContext.Default.UserResponse, ct);

    public Task<UserResponse> UpdateUserAsync(Guid id, UpdateUserRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Patch, $"/api/admin/users/{id}", body, IdentityJsonContext.Default.UpdateUserRequest, IdentityJsonContext.Default.UserResponse, ct);

    public Task<List<AccessKeyResponse>> ListMyKeysAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/access-keys", IdentityJsonContext.Default.ListAccessKeyResponse, ct);

    public Task<CreatedAccessKeyResponse> CreateMyKeyAsync(CreateAccessKeyRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/v2/access-keys", body, IdentityJsonContext.Default.CreateAccessKeyRequest,
            IdentityJsonContext.Default.CreatedAccessKeyResponse, ct);

    public Task RevokeMyKeyAsync(Guid id, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Delete, $"/api/v2/access-keys/{id}", ct);

    public Task<List<AppResponse>> ListAppsAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/apps", IdentityJsonContext.Default.ListAppResponse, ct);

    public Task<CreatedAppResponse> CreateAppAsync(CreateAppRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/apps", body, IdentityJsonContext.Default.CreateAppRequest, IdentityJsonContext.Default.CreatedAppResponse, ct);

    public Task<SubscriptionResponse> SetSubscriptionAsync(Guid appId, SetSubscriptionRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/apps/{appId}/subscription", body, IdentityJsonContext.Default.SetSubscriptionRequest,
            IdentityJsonContext.Default.SubscriptionResponse, ct);

    /// <summary>Who asked for a pending connect session (client name, address, user agent, time).</summary>
    public Task<ConnectRequestResponse> GetConnectRequestAsync(string sessionId, CancellationToken ct = default) =>
        GetAsync(http, $"/api/v2/access-key/session/{Uri.EscapeDataString(sessionId)}/request", IdentityJsonContext.Default.ConnectRequestResponse, ct);

    /// <summary>
    /// Approves a CLI's pending connect session with the code the CLI printed: the Api then hands the CLI a new
    /// inference-scoped key for the signed-in user.
    /// </summary>
    public Task ApproveConnectAsync(string sessionId, string userCode, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, $"/api/v2/access-key/session/{Uri.EscapeDataString(sessionId)}/approve",
            new ConnectApproveRequest(userCode), IdentityJsonContext.Default.ConnectApproveRequest, ct);

    public Task<InvitationsResponse> ListInvitationsAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/invitations", IdentityJsonContext.Default.InvitationsResponse, ct);

    public Task<InvitationResponse> CreateInvitationAsync(CreateInvitationRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/invitations", body, IdentityJsonContext.Default.CreateInvitationRequest,
            IdentityJsonContext.Default.InvitationResponse, ct);

    public Task RevokeInvitationAsync(Guid id, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Delete, $"/api/admin/invitations/{id}", ct);
}
