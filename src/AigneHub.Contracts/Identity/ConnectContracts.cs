namespace AigneHub.Contracts.Identity;

// The CLI connect flow (/api/v2/access-key/session): create, poll, show who asked, approve with the user code.

public sealed record ConnectSessionRequest(string? ClientName);

/// <summary><paramref name="UserCode"/> is for the CLI to print; the person types it on the approval page.</summary>
public sealed record ConnectSessionResponse(string Id, string Url, string UserCode, DateTimeOffset ExpiresAt);

public sealed record ConnectStatusResponse(string Status, string? Key);

public sealed record ConnectApproveRequest(string? UserCode);

public sealed record ConnectApprovedResponse(string Status, Guid KeyId, string Prefix);

/// <summary>What the approval page shows about who asked, so the person can tell their own terminal from a stranger's.</summary>
public sealed record ConnectRequestResponse(string? ClientName, string? IpAddress, string? UserAgent, DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt, int TriesLeft);
