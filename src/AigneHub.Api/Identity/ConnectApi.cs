using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using StackExchange.Redis;

namespace AigneHub.Api.Identity;

/// <summary>
/// The CLI connect flow. The CLI creates a pending session (anonymous) and opens <c>url</c> in a browser; the
/// signed-in person approves it there, which creates an access key for them; the CLI polls until it receives the key
/// once. State lives only in Redis for <see cref="Lifetime"/>: under <c>aignehub:connect:&lt;SHA-256(id)&gt;</c>,
/// with the key AES-GCM-encrypted under a key derived from the id — so Redis alone (a dump, a replica) never yields
/// a usable key, and only the holder of the id can collect it.
/// </summary>
public static class ConnectApi
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private const string Pending = "pending";
    private const string ApprovedPrefix = "approved:";

    public static RouteGroupBuilder MapConnectApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2/access-key/session").WithTags("Connect").WithRedisUnavailableAs503();
        group.MapPost("/", Create).AllowAnonymous().WithName("CreateConnectSession")
            .WithSummary("Starts a CLI connect: returns the session id and the URL to approve it in a browser.");
        group.MapPost("/{id}/approve", Approve).RequireAuthorization(AuthorizationPolicies.Member).WithName("ApproveConnectSession")
            .WithSummary("The signed-in person approves: an access key is created for them and handed to the waiting CLI.");
        group.MapGet("/{id}", Poll).AllowAnonymous().WithName("PollConnectSession")
            .WithSummary("202 while pending; 200 with the key exactly once after approval; then 404.");
        return group;
    }

    internal static async Task<Created<ConnectSessionResponse>> Create(HttpRequest request, IdentityServices s)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await s.Redis.StringSetAsync(RedisKey(id), Pending, Lifetime);
        var baseUrl = (s.Options.PublicBaseUrl ?? $"{request.Scheme}://{request.Host}").TrimEnd('/');
        var body = new ConnectSessionResponse(id, $"{baseUrl}/connect/{id}", s.Time.GetUtcNow() + Lifetime);
        return TypedResults.Created($"/api/v2/access-key/session/{id}", body);
    }

    internal static async Task<Results<Ok<ConnectApprovedResponse>, JsonHttpResult<ErrorEnvelope>>> Approve(
        string id, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        if (!IsId(id))
        {
            return ApiErrors.NotFound("The connect session is unknown or expired.");
        }
        var key = RedisKey(id);
        var state = (string?)await s.Redis.StringGetAsync(key);
        if (state is null)
        {
            return ApiErrors.NotFound("The connect session is unknown or expired.");
        }
        if (state != Pending)
        {
            return ApiErrors.Conflict("The connect session was already approved.");
        }

        var (row, secret) = s.Issuer.Add(s.Db, caller.GetUserId()!.Value, AccessKeyKind.Api, "CLI (connect)", expiresAt: null);
        await s.Db.SaveChangesAsync(ct);

        // Only a still-pending session takes the key (two approvals racing: one wins); the TTL keeps running.
        var transaction = s.Redis.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(key, Pending));
        _ = transaction.StringSetAsync(key, ApprovedPrefix + Seal(id, secret), expiry: null, keepTtl: true);
        if (!await transaction.ExecuteAsync())
        {
            row.RevokedAt = s.Time.GetUtcNow();
            await s.Db.SaveChangesAsync(ct);
            return ApiErrors.Conflict("The connect session was already approved or has expired.");
        }
        return TypedResults.Ok(new ConnectApprovedResponse("approved", row.Id, row.Prefix));
    }

    internal static async Task<Results<Ok<ConnectStatusResponse>, Accepted<ConnectStatusResponse>, JsonHttpResult<ErrorEnvelope>>> Poll(
        string id, IdentityServices s)
    {
        if (!IsId(id))
        {
            return ApiErrors.NotFound("The connect session is unknown, expired or already collected.");
        }
        var key = RedisKey(id);
        var state = (string?)await s.Redis.StringGetAsync(key);
        if (state == Pending)
        {
            return TypedResults.Accepted((string?)null, new ConnectStatusResponse(Pending, null));
        }
        // GETDEL: of two pollers, exactly one receives the key.
        var approved = state is null ? null : (string?)await s.Redis.StringGetDeleteAsync(key);
        if (approved is null || !approved.StartsWith(ApprovedPrefix, StringComparison.Ordinal))
        {
            return ApiErrors.NotFound("The connect session is unknown, expired or already collected.");
        }
        return TypedResults.Ok(new ConnectStatusResponse("approved", Open(id, approved[ApprovedPrefix.Length..])));
    }

    private static bool IsId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    private static string RedisKey(string id) => "aignehub:connect:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id)));

    private static byte[] DeriveKey(string id) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.ASCII.GetBytes(id), 32, salt: [], info: "aignehub connect v1"u8.ToArray());

    private static string Seal(string id, string secret)
    {
        using var aes = new AesGcm(DeriveKey(id), 16);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var plain = Encoding.UTF8.GetBytes(secret);
        var cipher = new byte[plain.Length];
        var tag = new byte[16];
        aes.Encrypt(nonce, plain, cipher, tag);
        return Convert.ToBase64String([.. nonce, .. tag, .. cipher]);
    }

    private static string Open(string id, string sealedText)
    {
        var data = Convert.FromBase64String(sealedText);
        using var aes = new AesGcm(DeriveKey(id), 16);
        var plain = new byte[data.Length - 28];
        aes.Decrypt(data.AsSpan(0, 12), data.AsSpan(28), data.AsSpan(12, 16), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
