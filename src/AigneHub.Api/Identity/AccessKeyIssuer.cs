using System.Security.Cryptography;
using AigneHub.Data;
using AigneHub.Data.Identity;

namespace AigneHub.Api.Identity;

/// <summary>Makes new credentials: the secret is returned once and only its hash is stored.</summary>
public sealed class AccessKeyIssuer(TimeProvider time)
{
    public const string ApiKeyPrefix = "ahk_";
    public const string SessionPrefix = "ahs_";
    private const int RandomBytes = 24; // 48 hex characters, 192 bits

    public static string NewSecret(string prefix) =>
        prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>Adds the key to the context (the caller saves) and returns the row and the secret.</summary>
    public (AccessKey Row, string Secret) Add(AigneHubDbContext db, Guid userId, AccessKeyKind kind, string? name, DateTimeOffset? expiresAt,
        AccessKeyScope scope)
    {
        var secret = NewSecret(kind == AccessKeyKind.Session ? SessionPrefix : ApiKeyPrefix);
        var row = new AccessKey
        {
            UserId = userId,
            Kind = kind,
            Name = name,
            Prefix = AccessKeySecrets.Prefix(secret),
            Hash = AccessKeySecrets.Hash(secret),
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = expiresAt,
            Scope = scope,
        };
        db.AccessKeys.Add(row);
        return (row, secret);
    }
}
