namespace AigneHub.Contracts.Identity;

// Registered components (/api/admin/apps) and their subscriptions; WhoAmI answers a signed v1 call.

public sealed record CreateAppRequest(string? Name, string? PublicKey);

public sealed record CreatedAppResponse(Guid AppId, string Name, string PublicKey);

public sealed record SetSubscriptionRequest(string? Status, DateTimeOffset? CurrentPeriodEnd);

public sealed record SubscriptionResponse(string Status, DateTimeOffset CurrentPeriodEnd);

public sealed record AppResponse(Guid AppId, string Name, string PublicKey, DateTimeOffset CreatedAt, SubscriptionResponse? Subscription);

public sealed record WhoAmIResponse(Guid AppId, string? UserDid, SubscriptionResponse? Subscription);
