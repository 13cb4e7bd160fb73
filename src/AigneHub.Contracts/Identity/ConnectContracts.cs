namespace AigneHub.Contracts.Identity;

// The CLI connect flow (/api/v2/access-key/session): create, poll, approve.

public sealed record ConnectSessionResponse(string Id, string Url, DateTimeOffset ExpiresAt);

public sealed record ConnectStatusResponse(string Status, string? Key);

public sealed record ConnectApprovedResponse(string Status, Guid KeyId, string Prefix);
