using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Billing;

// Credits (/api/v2/credits, /api/admin/users/{id}/credits). Amounts are decimal strings on the wire (DecimalString).

/// <summary>A balance. <see cref="Grants"/> is what the live grants hold per category; <see cref="ExpiringSoon"/> how
/// much of it lapses within <see cref="ExpiringCredits.WithinDays"/> days.</summary>
public sealed record CreditsResponse(
    [property: JsonConverter(typeof(DecimalString))] decimal Balance,
    [property: JsonConverter(typeof(DecimalString))] decimal Reserved,
    [property: JsonConverter(typeof(DecimalString))] decimal Available,
    string Currency, string? PaymentLink, GrantTotals Grants, ExpiringCredits ExpiringSoon);

public sealed record GrantTotals(
    [property: JsonConverter(typeof(DecimalString))] decimal Paid,
    [property: JsonConverter(typeof(DecimalString))] decimal Promotional);

public sealed record ExpiringCredits([property: JsonConverter(typeof(DecimalString))] decimal Amount, int WithinDays, DateTimeOffset? NextExpiresAt);

public sealed record LedgerEntryResponse(Guid Id, [property: JsonConverter(typeof(DecimalString))] decimal Amount, string Kind, Guid? ModelCallId,
    Guid? GrantId, string? Description, DateTimeOffset CreatedAt);

/// <summary>The body of a grant; <see cref="Category"/> is <c>paid</c> or <c>promotional</c>.</summary>
public sealed record GrantRequest([property: JsonConverter(typeof(DecimalString))] decimal? Amount, string? Category, DateTimeOffset? ExpiresAt,
    string? Note);

public sealed record GrantResponse(Guid Id, Guid UserId,
    [property: JsonConverter(typeof(DecimalString))] decimal Amount,
    [property: JsonConverter(typeof(DecimalString))] decimal Remaining,
    string Category, string Source, string? Note, DateTimeOffset? ExpiresAt, DateTimeOffset CreatedAt);

/// <summary>A meter event given up on (<c>GET /api/admin/meter-events/dead</c>): the charge is in the ledger, but the
/// external billing system never accepted it.</summary>
public sealed record DeadMeterEventResponse(Guid ModelCallId, Guid UserId,
    [property: JsonConverter(typeof(DecimalString))] decimal Credits,
    DateTimeOffset CreatedAt, int Attempts, string? LastError, DateTimeOffset DeadAt);
