using System.Globalization;
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
/// The CLI connect flow, device-style (after RFC 8628's user code). The CLI creates a pending session (anonymous),
/// prints its <c>userCode</c> and opens <c>url</c>; the signed-in person types the code on that page and approves,
/// which creates an <see cref="AccessKeyScope.Inference"/> key for them that expires after
/// <see cref="AuthOptions.ConnectKeyLifetime"/>; the CLI polls until it receives the key once. The code is what
/// stops the phishing of a link: someone who sends an owner a session they created cannot make the owner's click
/// alone approve it, and <see cref="MaxTries"/> wrong codes end the session.
/// State lives only in Redis for <see cref="Lifetime"/>, a hash under <c>aignehub:connect:&lt;SHA-256(id)&gt;</c>,
/// the key AES-GCM-encrypted under a key derived from the id — so Redis alone (a dump, a replica) never yields a
/// usable key, and only the holder of the id can collect it. The id is a secret: it never appears in logs or traces
/// (ServiceDefaults redacts it from span paths).
/// </summary>
public static class ConnectApi
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    public const int MaxTries = 5;
    public const int MaxClientNameLength = 100;
    private const int MaxUserAgentLength = 300;
    private const string Pending = "pending";
    private const string Approved = "approved";

    /// <summary>RFC 8628's base-20 alphabet: consonants only (no vowels to spell words, no 0/O or 1/I to confuse).</summary>
    private const string CodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";

    /// <summary>Counts a try only while the session is pending; ends the session when the tries run out.</summary>
    private static readonly LuaScript TryScript = LuaScript.Prepare("""
        if redis.call('HGET', @key, 'state') ~= 'pending' then return -1 end
        local tries = redis.call('HINCRBY', @key, 'tries', 1)
        if tries > tonumber(@max) then redis.call('DEL', @key) return -1 end
        return tries
        """);

    /// <summary>Of two pollers, exactly one receives the key: the read and the delete are one step.</summary>
    private static readonly LuaScript CollectScript = LuaScript.Prepare("""
        local state = redis.call('HGET', @key, 'state')
        if state == 'approved' then
          local sealed = redis.call('HGET', @key, 'key')
          redis.call('DEL', @key)
          return sealed
        end
        return state
        """);

    public static RouteGroupBuilder MapConnectApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2/access-key/session").WithTags("Connect").WithRedisUnavailableAs503();
        group.MapPost("/", Create).AllowAnonymous().WithName("CreateConnectSession")
            .WithSummary("Starts a CLI connect (body may name the client): returns the session id, the URL to open and the user code to type there.");
        group.MapGet("/{id}/request", Describe).RequireAuthorization(AuthorizationPolicies.Member).WithName("DescribeConnectSession")
            .WithSummary("Who asked: client name, address, user agent and time, for the approval page.");
        group.MapPost("/{id}/approve", Approve).RequireAuthorization(AuthorizationPolicies.Member).WithName("ApproveConnectSession")
            .WithSummary("The signed-in person types the user code and approves: an inference-scoped, expiring key is created for them and handed to the waiting CLI.");
        group.MapGet("/{id}", Poll).AllowAnonymous().WithName("PollConnectSession")
            .WithSummary("202 while pending; 200 with the key exactly once after approval; then 404.");
        return group;
    }

    internal static async Task<Results<Created<ConnectSessionResponse>, JsonHttpResult<ErrorEnvelope>>> Create(HttpRequest request, IdentityServices s)
    {
        string? clientName = null;
        if (request.ContentLength > 0 || (request.ContentLength is null && request.Headers.ContentType.Count > 0))
        {
            var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.ConnectSessionRequest);
            if (error is not null)
            {
                return error;
            }
            clientName = string.IsNullOrWhiteSpace(body!.ClientName) ? null : body.ClientName.Trim();
            if (clientName is { Length: > MaxClientNameLength } || (clientName is not null && clientName.Any(char.IsControl)))
            {
                return ApiErrors.BadRequest($"'clientName' must be at most {MaxClientNameLength} printable characters.", "clientName");
            }
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var userCode = NewUserCode();
        var now = s.Time.GetUtcNow();
        var userAgent = request.Headers.UserAgent.ToString();
        var key = RedisKey(id);
        var transaction = s.Redis.CreateTransaction();
        _ = transaction.HashSetAsync(key,
        [
            new("state", Pending),
            new("code", Normalize(userCode)),
            new("client", clientName ?? ""),
            new("ip", request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? ""),
            new("ua", userAgent.Length > MaxUserAgentLength ? userAgent[..MaxUserAgentLength] : userAgent),
            new("created", now.ToUnixTimeMilliseconds()),
            new("tries", 0),
        ]);
        _ = transaction.KeyExpireAsync(key, Lifetime);
        await transaction.ExecuteAsync();

        var baseUrl = (s.Options.PublicBaseUrl ?? $"{request.Scheme}://{request.Host}").TrimEnd('/');
        var response = new ConnectSessionResponse(id, $"{baseUrl}/connect/{id}", userCode, now + Lifetime);
        return TypedResults.Created($"/api/v2/access-key/session/{id}", response);
    }

    internal static async Task<Results<Ok<ConnectRequestResponse>, JsonHttpResult<ErrorEnvelope>>> Describe(string id, IdentityServices s)
    {
        var session = IsId(id) ? await ReadAsync(s.Redis, RedisKey(id)) : null;
        if (session is null)
        {
            return ApiErrors.NotFound("The connect session is unknown or expired.");
        }
        if (session.GetValueOrDefault("state") != Pending)
        {
            return ApiErrors.Conflict("The connect session was already approved.");
        }
        var created = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(session["created"], CultureInfo.InvariantCulture));
        var tries = int.Parse(session.GetValueOrDefault("tries") ?? "0", CultureInfo.InvariantCulture);
        return TypedResults.Ok(new ConnectRequestResponse(NullIfEmpty(session.GetValueOrDefault("client")), NullIfEmpty(session.GetValueOrDefault("ip")),
            NullIfEmpty(session.GetValueOrDefault("ua")), created, created + Lifetime, Math.Max(0, MaxTries - tries)));
    }

    internal static async Task<Results<Ok<ConnectApprovedResponse>, JsonHttpResult<ErrorEnvelope>>> Approve(
        string id, HttpRequest request, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        // Approvals are audited; the id still collects the key, so the entry names the session without it.
        Audit.AuditLog.NoteTarget(request.HttpContext, "connect session " + SecretPathRedaction.Redacted);
        var key = RedisKey(id);
        var session = IsId(id) ? await ReadAsync(s.Redis, key) : null;
        if (session is null)
        {
            return ApiErrors.NotFound("The connect session is unknown or expired.");
        }
        if (session.GetValueOrDefault("state") != Pending)
        {
            return ApiErrors.Conflict("The connect session was already approved.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.ConnectApproveRequest);
        if (error is not null)
        {
            return error;
        }
        if (string.IsNullOrWhiteSpace(body!.UserCode))
        {
            return ApiErrors.BadRequest("'userCode' is required: type the code the command-line tool printed.", "userCode");
        }

        // Every comparison spends a try before it is made, so parallel guesses get MaxTries comparisons in all.
        var tries = (long)await TryScript.EvaluateAsync(s.Redis, new { key, max = MaxTries });
        if (tries < 0)
        {
            return ApiErrors.NotFound("The connect session is unknown, expired or ended.");
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Normalize(body.UserCode)), Encoding.ASCII.GetBytes(session["code"])))
        {
            if (tries >= MaxTries)
            {
                await s.Redis.KeyDeleteAsync(key);
                return ApiErrors.BadRequest($"The code does not match, {MaxTries} times: the connect session has ended. Start again in your terminal.", "userCode");
            }
            return ApiErrors.BadRequest($"The code does not match the one the command-line tool printed; {MaxTries - tries} tries left.", "userCode");
        }

        var clientName = NullIfEmpty(session.GetValueOrDefault("client"));
        var (row, secret) = s.Issuer.Add(s.Db, caller.GetUserId()!.Value, AccessKeyKind.Api,
            clientName is null ? "CLI (connect)" : $"{clientName} (connect)",
            s.Time.GetUtcNow() + s.Options.ConnectKeyLifetime, AccessKeyScope.Inference);
        await s.Db.SaveChangesAsync(ct);

        // Only a still-pending session takes the key (two approvals racing: one wins); the TTL keeps running.
        var transaction = s.Redis.CreateTransaction();
        transaction.AddCondition(Condition.HashEqual(key, "state", Pending));
        _ = transaction.HashSetAsync(key, [new("state", Approved), new("key", Seal(id, secret))]);
        if (!await transaction.ExecuteAsync())
        {
            row.RevokedAt = s.Time.GetUtcNow();
            await s.Db.SaveChangesAsync(ct);
            return ApiErrors.Conflict("The connect session was already approved or has expired.");
        }
        return TypedResults.Ok(new ConnectApprovedResponse(Approved, row.Id, row.Prefix));
    }

    internal static async Task<Results<Ok<ConnectStatusResponse>, Accepted<ConnectStatusResponse>, JsonHttpResult<ErrorEnvelope>>> Poll(
        string id, IdentityServices s)
    {
        var result = IsId(id) ? (string?)await CollectScript.EvaluateAsync(s.Redis, new { key = RedisKey(id) }) : null;
        if (result == Pending)
        {
            return TypedResults.Accepted((string?)null, new ConnectStatusResponse(Pending, null));
        }
        if (result is null or Approved)
        {
            return ApiErrors.NotFound("The connect session is unknown, expired or already collected.");
        }
        return TypedResults.Ok(new ConnectStatusResponse(Approved, Open(id, result)));
    }

    /// <summary><c>XXXX-XXXX</c> from <see cref="CodeAlphabet"/>: 20⁸ ≈ 2.6·10¹⁰ codes against <see cref="MaxTries"/> guesses.</summary>
    private static string NewUserCode()
    {
        Span<char> code = stackalloc char[9];
        for (var i = 0; i < code.Length; i++)
        {
            code[i] = i == 4 ? '-' : CodeAlphabet[RandomNumberGenerator.GetInt32(CodeAlphabet.Length)];
        }
        return new string(code);
    }

    /// <summary>What the person typed, as compared: case, spaces and dashes do not matter.</summary>
    private static string Normalize(string code) =>
        new(code.Where(c => c is not ('-' or ' ')).Select(char.ToUpperInvariant).Where(char.IsAscii).ToArray());

    private static async Task<Dictionary<string, string>?> ReadAsync(IDatabase redis, RedisKey key)
    {
        var fields = await redis.HashGetAllAsync(key);
        return fields.Length == 0 ? null : fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value ?? "");
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool IsId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    private static RedisKey RedisKey(string id) => "aignehub:connect:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id)));

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
