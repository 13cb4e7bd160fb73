namespace AigneHub.Contracts.Identity;

// Access keys (/api/v2/access-keys, /api/admin/users/{id}/access-keys). Kind on the wire: api or session.

/// <summary><paramref name="Scope"/>: <c>inference</c> (AI calls, model lists, own usage) or <c>full</c> (whatever the
/// role allows); unset, the route's default.</summary>
public sealed record CreateAccessKeyRequest(string? Name, DateTimeOffset? ExpiresAt, string? Scope = null);

/// <summary>The only time the secret is shown.</summary>
public sealed record CreatedAccessKeyResponse(Guid Id, string Key, string Prefix, string? Name, DateTimeOffset? ExpiresAt, string Scope);

public sealed record AccessKeyResponse(
    Guid Id,
    string Prefix,
    string? Name,
    string Kind,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt,
    string Scope);
