namespace AigneHub.Contracts.Identity;

// People (/api/admin/users, /api/v2/me). Roles on the wire: owner, admin, member, guest.

public sealed record CreateUserRequest(string? Email, string? DisplayName, string? Role, string? Password);

/// <summary>A null (or omitted) field keeps its value; an empty <see cref="DisplayName"/> clears it.</summary>
public sealed record UpdateUserRequest(string? Role, bool? Disabled, string? DisplayName);

public sealed record UserResponse(
    Guid Id,
    string Email,
    string? DisplayName,
    string? Did,
    string Role,
    bool Disabled,
    bool HasPassword,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSeenAt);
