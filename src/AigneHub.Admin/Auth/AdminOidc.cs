using AigneHub.Admin.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace AigneHub.Admin.Auth;

/// <summary>
/// <c>AigneHub:Auth:Oidc</c>, the same section the Api reads: the Admin is the OpenID Connect client (it holds the
/// secret and runs the browser flow); the Api validates the resulting ID token and owns the account.
/// </summary>
public sealed class AdminOidcOptions
{
    public const string Section = "AigneHub:Auth:Oidc";

    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
}

internal sealed class ValidateAdminOidcOptions : IValidateOptions<AdminOidcOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOidcOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Authority) && string.IsNullOrWhiteSpace(options.ClientId) && string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            return ValidateOptionsResult.Success;
        }
        List<string> problems = [];
        if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority)
            || !(authority.Scheme == Uri.UriSchemeHttps || (authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback)))
        {
            problems.Add($"{AdminOidcOptions.Section}:Authority must be an absolute https URL (http only for localhost) when OIDC is configured.");
        }
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            problems.Add($"{AdminOidcOptions.Section}:ClientId is required when OIDC is configured.");
        }
        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            problems.Add($"{AdminOidcOptions.Section}:ClientSecret is required when OIDC is configured.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

public static class AdminOidcExtensions
{
    public const string Scheme = OpenIdConnectDefaults.AuthenticationScheme;

    /// <summary>The redirect URI to register with the identity provider: <c>{Admin origin}/signin-oidc</c>.</summary>
    public const string CallbackPath = "/signin-oidc";

    /// <summary>
    /// Adds the OpenID Connect scheme when <c>AigneHub:Auth:Oidc:Authority</c> is set. On a successful callback the ID
    /// token goes to the Api, and the Admin's cookie gets the Api's session exactly as after a password sign-in; the
    /// provider's own claims never reach the cookie.
    /// </summary>
    public static IHostApplicationBuilder AddAdminOidc(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOidcOptions>().BindConfiguration(AdminOidcOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOidcOptions>, ValidateAdminOidcOptions>();
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{AdminOidcOptions.Section}:Authority"]))
        {
            return builder;
        }

        builder.Services.AddAuthentication().AddOpenIdConnect(Scheme, options =>
        {
            var config = builder.Configuration.GetSection(AdminOidcOptions.Section).Get<AdminOidcOptions>()!;
            options.Authority = config.Authority;
            options.ClientId = config.ClientId;
            options.ClientSecret = config.ClientSecret;
            options.RequireHttpsMetadata = config.Authority!.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
            options.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            options.CallbackPath = CallbackPath;
            options.ResponseType = OpenIdConnectResponseType.Code;
            options.UsePkce = true;
            // The code comes back on a top-level GET redirect, so the correlation and nonce cookies can be SameSite=Lax
            // (form_post would need SameSite=None, which browsers refuse on plain http during development).
            options.ResponseMode = OpenIdConnectResponseMode.Query;
            options.CorrelationCookie.SameSite = SameSiteMode.Lax;
            options.CorrelationCookie.SecurePolicy = AdminAuthExtensions.CookieSecurity(builder.Environment);
            options.NonceCookie.SameSite = SameSiteMode.Lax;
            options.NonceCookie.SecurePolicy = AdminAuthExtensions.CookieSecurity(builder.Environment);
            options.Scope.Clear();
            options.Scope.Add("openid");
            options.Scope.Add("profile");
            options.Scope.Add("email");
            options.MapInboundClaims = false;
            options.GetClaimsFromUserInfoEndpoint = false;
            // Tokens stay out of the cookie: the Api session is the only credential the Admin keeps.
            options.SaveTokens = false;
            options.Events.OnTokenValidated = ExchangeForSessionAsync;
            options.Events.OnRemoteFailure = ShowFailureOnSignInPage;
        });
        return builder;
    }

    /// <summary>The provider is satisfied; now the Api must be: it validates the ID token itself and answers a session.</summary>
    internal static async Task ExchangeForSessionAsync(TokenValidatedContext context)
    {
        var idToken = context.TokenEndpointResponse?.IdToken ?? context.ProtocolMessage?.IdToken;
        if (string.IsNullOrEmpty(idToken))
        {
            context.Fail("The identity provider answered without an ID token.");
            return;
        }
        var auth = context.HttpContext.RequestServices.GetRequiredService<AuthApiClient>();
        SessionResponse login;
        try
        {
            login = await auth.OidcExchangeAsync(idToken, context.HttpContext.RequestAborted);
        }
        catch (ApiException ex)
        {
            context.Fail(ex.Message);
            return;
        }
        var principal = AdminAuthExtensions.PrincipalFor(login);
        context.Principal = principal;
        AdminAuthExtensions.ApplySession(context.Properties!, login);
        context.Properties!.RedirectUri = AdminAuthExtensions.LandingUrl(principal, AdminAuthExtensions.SafeReturnUrl(context.Properties.RedirectUri));
    }

    /// <summary>A refused exchange, a cancelled sign-in at the provider, a stale state: back to the sign-in page, saying why.</summary>
    internal static Task ShowFailureOnSignInPage(RemoteFailureContext context)
    {
        var returnUrl = AdminAuthExtensions.SafeReturnUrl(context.Properties?.RedirectUri);
        var message = context.Failure?.Message is { Length: > 0 } reason ? "Single sign-on failed: " + reason : "Single sign-on failed.";
        context.Response.Redirect(AdminAuthExtensions.SignInUrl(returnUrl, message));
        context.HandleResponse();
        return Task.CompletedTask;
    }
}
