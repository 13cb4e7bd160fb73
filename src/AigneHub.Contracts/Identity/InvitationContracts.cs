namespace AigneHub.Contracts.Identity;

// Invitations (/api/admin/invitations): who may create an account under AigneHub:Auth:Registration = invite.

/// <summary>Exactly one of <paramref name="Email"/> (SSO) and <paramref name="Did"/> (wallet); <paramref name="ExpiresInDays"/> defaults to 7.</summary>
public sealed record CreateInvitationRequest(string? Email, string? Did, string? Role, int? ExpiresInDays);

/// <summary><paramref name="Status"/>: <c>open</c>, <c>used</c>, <c>revoked</c> or <c>expired</c>.</summary>
public sealed record InvitationResponse(Guid Id, string? Email, string? Did, string Role, string Status, Guid CreatedBy,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt, Guid? UsedBy, DateTimeOffset? RevokedAt);

/// <summary>The registration policy in force and the invitations, for the Admin's page.</summary>
public sealed record InvitationsResponse(string Registration, string DefaultRole, List<InvitationResponse> Invitations);
