using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AigneHub.Api.Identity;

/// <summary>
/// What an ID token proved: who the person is — (<see cref="Issuer"/>, <see cref="Subject"/>), the only stable
/// identity — what address the provider claims for them (<see cref="Email"/>, trustworthy only when
/// <see cref="EmailVerified"/>), and until when the token itself is good.
/// </summary>
public sealed record OidcIdentity(string Issuer, string Subject, string? Email, bool EmailVerified, string? Name, DateTimeOffset ExpiresAt);

/// <summary>Why an ID token was refused: <see cref="Status"/> 401 for a bad token, 503 when the authority is unreachable.</summary>
public sealed record OidcRejection(int Status, string Message);

/// <summary>
/// Validates ID tokens of the configured OpenID Connect authority on the Api's own account — the Admin that obtained
/// the token is trusted for nothing: issuer = <c>Authority</c>, audience = <c>ClientId</c>, signature by a key of the
/// authority's JWKS (found through its discovery document, cached and refreshed by <see cref="ConfigurationManager{T}"/>),
/// lifetime. What the identity may do here (which account, whether its email counts) is the exchange's decision.
/// </summary>
public sealed partial class OidcTokenValidator
{
    public const string HttpClientName = "oidc-discovery";
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private readonly OidcOptions _options;
    private readonly ILogger<OidcTokenValidator> _logger;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _configuration;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly string[] _issuers = [];

    public OidcTokenValidator(IOptions<AuthOptions> options, IHttpClientFactory httpClients, ILogger<OidcTokenValidator> logger)
    {
        _options = options.Value.Oidc;
        _logger = logger;
        if (!_options.Enabled)
        {
            return;
        }
        var authority = _options.Authority!.TrimEnd('/');
        // Providers differ on the trailing slash of their issuer; the authority is the same either way.
        _issuers = [authority, authority + "/"];
        var retriever = new HttpDocumentRetriever(httpClients.CreateClient(HttpClientName))
        {
            // Options validation already allows plain http only for a loopback authority.
            RequireHttps = new Uri(authority).Scheme == Uri.UriSchemeHttps,
        };
        _configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            authority + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(), retriever);
    }

    public bool Enabled => _configuration is not null;

    public string DisplayName => string.IsNullOrWhiteSpace(_options.DisplayName) ? "single sign-on" : _options.DisplayName;

    public async Task<(OidcIdentity? Identity, OidcRejection? Rejection)> ValidateAsync(string idToken, CancellationToken ct)
    {
        if (_configuration is null)
        {
            throw new InvalidOperationException("OpenID Connect is not configured.");
        }
        var result = await ValidateOnceAsync(idToken, ct);
        if (result.Rejection is null && result.Result!.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The authority may have rotated its keys since the JWKS was cached: fetch again, once.
            _configuration.RequestRefresh();
            result = await ValidateOnceAsync(idToken, ct);
        }
        if (result.Rejection is not null)
        {
            return (null, result.Rejection);
        }
        var validated = result.Result!;
        if (!validated.IsValid)
        {
            var message = Describe(validated.Exception);
            LogRejected(_logger, message);
            return (null, new OidcRejection(StatusCodes.Status401Unauthorized, message));
        }

        var claims = validated.ClaimsIdentity;
        var subject = claims.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(subject) || subject.Length > 255)
        {
            return (null, Unauthorized("The ID token has no 'sub' claim (or one longer than 255 characters)."));
        }
        var token = (JsonWebToken)validated.SecurityToken;
        var email = claims.FindFirst("email")?.Value?.Trim().ToLowerInvariant();
        // Only a literal true counts: an absent claim is no statement, and an unverified address could be anyone's.
        var emailVerified = claims.FindFirst("email_verified") is { } verified && string.Equals(verified.Value, "true", StringComparison.OrdinalIgnoreCase);
        var name = claims.FindFirst("name")?.Value;
        return (new OidcIdentity(token.Issuer.TrimEnd('/'), subject, UsersApi.IsEmail(email) ? email : null, emailVerified,
            string.IsNullOrWhiteSpace(name) ? null : name.Trim(), token.ValidTo), null);
    }

    private async Task<(TokenValidationResult? Result, OidcRejection? Rejection)> ValidateOnceAsync(string idToken, CancellationToken ct)
    {
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await _configuration!.GetConfigurationAsync(ct);
        }
        catch (InvalidOperationException ex)
        {
            LogDiscoveryFailed(_logger, _options.Authority!, ex);
            return (null, new OidcRejection(StatusCodes.Status503ServiceUnavailable,
                $"The identity provider {_options.Authority} cannot be reached for its signing keys; retry shortly."));
        }
        var parameters = new TokenValidationParameters
        {
            ValidIssuers = _issuers,
            ValidAudience = _options.ClientId,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            // Lifetime is checked against the system clock (IdentityModel's own TimeProvider hook is not public).
            ClockSkew = ClockSkew,
        };
        return (await _handler.ValidateTokenAsync(idToken, parameters), null);
    }

    private string Describe(Exception? ex) => ex switch
    {
        SecurityTokenExpiredException expired => $"The ID token expired at {expired.Expires:yyyy-MM-ddTHH:mm:ssZ}; sign in again.",
        SecurityTokenNotYetValidException => "The ID token is not valid yet (check the clocks of the hub and the identity provider).",
        SecurityTokenInvalidAudienceException => $"The ID token was issued to another client, not to AigneHub's client id '{_options.ClientId}'.",
        SecurityTokenInvalidIssuerException => $"The ID token was issued by another authority, not by {_options.Authority}.",
        SecurityTokenInvalidSignatureException => "The ID token's signature does not verify with the identity provider's published keys.",
        SecurityTokenNoExpirationException => "The ID token has no expiry.",
        SecurityTokenMalformedException or ArgumentException => "'idToken' is not a well-formed JWT.",
        _ => "The ID token is not valid" + (ex is null ? "." : $": {ex.GetType().Name}."),
    };

    private static OidcRejection Unauthorized(string message) => new(StatusCodes.Status401Unauthorized, message);

    [LoggerMessage(Level = LogLevel.Information, Message = "OIDC ID token refused: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OIDC discovery of {Authority} failed")]
    private static partial void LogDiscoveryFailed(ILogger logger, string authority, Exception ex);
}
