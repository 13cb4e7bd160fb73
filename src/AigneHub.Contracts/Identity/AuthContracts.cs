namespace AigneHub.Contracts.Identity;

// Sign-in (/api/auth): password, wallet (did:key) and OpenID Connect, each answering a SessionResponse. Request fields
// are nullable so that a missing field is a clear 400 naming it rather than a binding failure.

public sealed record LoginRequest(string? Email, string? Password);

/// <summary>A sign-in session: the token is a Bearer credential (shown once) until <see cref="ExpiresAt"/> or logout.</summary>
public sealed record SessionResponse(string Token, DateTimeOffset ExpiresAt, UserResponse User);

public sealed record WalletChallengeRequest(string? Did);

/// <summary>The exact text the wallet must sign, and the single-use nonce it carries.</summary>
public sealed record WalletChallengeResponse(string Nonce, string Message, DateTimeOffset ExpiresAt);

public sealed record WalletVerifyRequest(string? Did, string? Nonce, string? Signature);

public sealed record OidcExchangeRequest(string? IdToken);

/// <summary>Which sign-in methods the hub offers (OpenID Connect only when configured).
/// <paramref name="Registration"/>: whether a new identity may create an account (<c>closed</c>, <c>invite</c>, <c>open</c>).</summary>
public sealed record AuthMethodsResponse(bool Password, bool Wallet, OidcMethodResponse Oidc, string Registration);

public sealed record OidcMethodResponse(bool Enabled, string? DisplayName);
