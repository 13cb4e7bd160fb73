namespace AigneHub.Contracts.Identity;

// Access keys (/api/v2/access-keys, /api/admin/users/{id}/access-keys). Kind on the wire: api or session.

public sealed record CreateAccessKeyRequest(string? Name, DateTimeOffset? ExpiresAt);

/// <summary>The only time the secret is shown.</summary>
public sealed record CreatedAccessKeyResponse(Guid Id, string Key, string Prefix, string? Name, DateTimeOffset? ExpiresAt);

public sealed record AccessKeyResponse(
    Guid Id,
    string Prefix,
    string? Name,
    string Kind,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt);
