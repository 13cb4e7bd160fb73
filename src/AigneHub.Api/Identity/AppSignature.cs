using System.Buffers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Abuse;
using AigneHub.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AigneHub.Api.Identity;

/// <summary>
/// What a v1 component signs (documented in docs/designs/auth.md): the RFC 8785 canonical JSON of
/// <c>{"appId","data","timestamp","userDid"}</c>, hashed with SHA3-256, signed with Ed25519.
/// </summary>
public static class AppSignaturePayload
{
    /// <param name="appId">The <c>x-app-id</c> header, as sent.</param>
    /// <param name="timestamp">The <c>x-timestamp</c> header (unix seconds), as a JSON integer.</param>
    /// <param name="data">The parsed request body, or null when the body is empty.</param>
    /// <param name="userDid">The <c>x-app-user-did</c> header; absent or empty means null.</param>
    public static byte[] CanonicalBytes(string appId, long timestamp, JsonNode? data, string? userDid) =>
        CanonicalJson.Serialize(new JsonObject
        {
            ["appId"] = appId,
            ["timestamp"] = timestamp,
            ["data"] = data?.DeepClone(),
            ["userDid"] = string.IsNullOrEmpty(userDid) ? null : userDid,
        });

    public static byte[] Digest(byte[] canonical) => Ed25519Crypto.Sha3_256(canonical);
}

/// <summary>
/// v1 component calls: <c>x-app-id</c>, <c>x-timestamp</c>, <c>x-component-sig</c>, optional <c>x-app-user-did</c>.
/// Checks, cheapest first: headers well formed, timestamp within ±<see cref="MaxSkew"/>, app registered, body
/// JSON within <see cref="MaxBodyBytes"/>, signature valid over the canonical payload, and finally that the
/// signature has not been seen before (Redis <c>SET NX EX</c> for twice the window, so a replay is refused for as
/// long as its timestamp could still pass). Only verified signatures are remembered, so forgeries cannot fill Redis.
/// </summary>
internal sealed class AppSignatureAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AppRegistry apps,
    IConnectionMultiplexer redis,
    UnknownCredentialGuard unknown,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AppSignature";
    public const string AppIdHeader = "x-app-id";
    public const string TimestampHeader = "x-timestamp";
    public const string SignatureHeader = "x-component-sig";
    public const string UserDidHeader = "x-app-user-did";
    public static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(600);
    public const int MaxBodyBytes = 1024 * 1024;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var appIdText = Request.Headers[AppIdHeader];
        var signatureText = Request.Headers[SignatureHeader];
        if (appIdText.Count == 0 && signatureText.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }
        if (Request.Headers.Authorization.Count > 0 || Request.Headers[AccessKeyAuthenticationHandler.ApiKeyHeader].Count > 0)
        {
            return AuthenticateResult.Fail("The request carries both a component signature and an access key; send one.");
        }
        if (appIdText.Count != 1 || !Guid.TryParse(appIdText.ToString(), out var appId))
        {
            return AuthenticateResult.Fail("The x-app-id header must hold one registered app id.");
        }
        var timestampText = Request.Headers[TimestampHeader];
        if (timestampText.Count != 1 || timestampText.ToString().Length > 12 || !long.TryParse(timestampText.ToString(), out var timestamp))
        {
            return AuthenticateResult.Fail("The x-timestamp header must be unix seconds.");
        }
        var skew = Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - timestamp);
        if (skew > MaxSkew.TotalSeconds)
        {
            return AuthenticateResult.Fail($"The signature is stale: x-timestamp is {skew} s away from the hub's clock (at most {MaxSkew.TotalSeconds} s).");
        }
        var signature = signatureText.Count == 1 ? Ed25519Crypto.Decode(signatureText.ToString(), Ed25519Crypto.SignatureLength) : null;
        if (signature is null)
        {
            return AuthenticateResult.Fail("The x-component-sig header must be a 64-byte Ed25519 signature in hex or base64url.");
        }
        var userDids = Request.Headers[UserDidHeader];
        if (userDids.Count > 1 || userDids.ToString().Length > 200)
        {
            return AuthenticateResult.Fail("The x-app-user-did header is malformed.");
        }
        var userDid = userDids.ToString();

        var negativeKey = "app:" + appId.ToString("N");
        if (unknown.RetryAfter(Context) is { } wait)
        {
            return AuthenticateResult.Fail(new TooManyUnknownCredentialsException(wait));
        }
        var knownUnknown = unknown.IsKnownUnknown(negativeKey);
        var app = knownUnknown ? null : await apps.FindAsync(appId, Context.RequestAborted);
        if (app is null && !knownUnknown && await unknown.RecordUnknownAsync(Context, negativeKey) is { } refusedFor)
        {
            return AuthenticateResult.Fail(new TooManyUnknownCredentialsException(refusedFor));
        }
        if (app is null)
        {
            return AuthenticateResult.Fail($"App '{appId}' is not registered.");
        }

        var (data, bodyError) = await ReadBodyAsync();
        if (bodyError is not null)
        {
            return AuthenticateResult.Fail(bodyError);
        }
        byte[] canonical;
        try
        {
            canonical = AppSignaturePayload.CanonicalBytes(appIdText.ToString(), timestamp, data, userDid);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            // Lone surrogates, out-of-range numbers, duplicate member names: no single canonical form to verify.
            return AuthenticateResult.Fail("The request body has no canonical JSON form: " + ex.Message);
        }
        if (!Ed25519Crypto.Verify(app.PublicKey, AppSignaturePayload.Digest(canonical), signature))
        {
            return AuthenticateResult.Fail($"The signature does not match app '{appId}''s key and this request.");
        }

        try
        {
            var seen = "aignehub:v1:sig:" + Convert.ToHexString(SHA256.HashData(signature));
            if (!await redis.GetDatabase().StringSetAsync(seen, 1, MaxSkew * 2, When.NotExists))
            {
                return AuthenticateResult.Fail("This signed request was already used (replay).");
            }
        }
        catch (RedisException)
        {
            // Without the replay store a captured request could be replayed: fail closed.
            return AuthenticateResult.Fail("Signed requests cannot be verified right now (replay store unavailable); retry shortly.");
        }

        List<Claim> claims = [new(AigneHubClaims.AppId, app.Id.ToString())];
        if (!string.IsNullOrEmpty(userDid))
        {
            claims.Add(new Claim(AigneHubClaims.AppUserDid, userDid));
        }
        var identity = new ClaimsIdentity(claims, SchemeName, AigneHubClaims.AppId, AigneHubClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>Reads the (bounded) body and rewinds it for the endpoint; null data for an empty body.</summary>
    private async Task<(JsonNode? Data, string? Error)> ReadBodyAsync()
    {
        if (Request.ContentLength > MaxBodyBytes)
        {
            return (null, $"The body is larger than {MaxBodyBytes} bytes, the most a signed v1 request may carry.");
        }
        Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: MaxBodyBytes + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= MaxBodyBytes && (read = await Request.Body.ReadAsync(buffer.AsMemory(length, MaxBodyBytes + 1 - length), Context.RequestAborted)) > 0)
            {
                length += read;
            }
            Request.Body.Position = 0;
            if (length > MaxBodyBytes)
            {
                return (null, $"The body is larger than {MaxBodyBytes} bytes, the most a signed v1 request may carry.");
            }
            if (length == 0)
            {
                return (null, null);
            }
            try
            {
                return (JsonNode.Parse(buffer.AsSpan(0, length), documentOptions: new JsonDocumentOptions { MaxDepth = 64 }), null);
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
            {
                return (null, "A signed v1 request body must be JSON (it is part of what is signed).");
            }
        }
        catch (IOException)
        {
            return (null, $"The body is larger than {MaxBodyBytes} bytes, the most a signed v1 request may carry.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (await TooManyUnknownCredentialsException.TryWriteAsync(result.Failure, Response))
        {
            return;
        }
        var message = result.Failure?.Message
            ?? "A signed component call is required: send x-app-id, x-timestamp and x-component-sig.";
        await ApiErrors.WriteAsync(Response, StatusCodes.Status401Unauthorized, message, ErrorTypes.Authentication);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiErrors.WriteAsync(Response, StatusCodes.Status403Forbidden, "This app may not call this route.", ErrorTypes.Permission);
}
