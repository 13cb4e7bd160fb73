using System.Security.Claims;
using AigneHub.Admin.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AigneHub.Admin.Auth;

/// <summary>Claim names of the Admin's own cookie; the Api's session token rides along inside it (encrypted).</summary>
public static class AdminClaims
{
    public const string UserId = "aignehub:user_id";
    public const string Token = "aignehub:token";
    public const string Email = ClaimTypes.Email;
    public const string Role = ClaimTypes.Role;

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(AdminRoles.Owner) || user.IsInRole(AdminRoles.Admin);
}

public static class AdminRoles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";
}

public static class AdminPolicies
{
    /// <summary>Owners and admins: everything that manages the hub.</summary>
    public const string Admin = "admin";

    /// <summary>Any signed-in user: their own keys, usage and the Playground.</summary>
    public const string Member = "member";
}

/// <summary>
/// The Admin is a backend-for-frontend: it signs people in against the Api (password <c>POST /api/auth/login</c>,
/// wallet <c>/api/auth/wallet/verify</c>, or an OpenID Connect ID token exchanged at <c>/api/auth/oidc/exchange</c>),
/// keeps the returned session token in its own encrypted cookie, and forwards it as a bearer token. Sign-in and
/// sign-out are plain form posts (or the OIDC redirect) to minimal endpoints, because a cookie cannot be set from an
/// interactive circuit.
/// </summary>
public static class AdminAuthExtensions
{
    public const string SignInPath = "/signin";
    public const string WalletSignInPath = "/signin/wallet";
    public const string LoginEndpoint = "/auth/login";
    public const string WalletLoginEndpoint = "/auth/wallet";
    public const string OidcLoginEndpoint = "/auth/oidc/login";
    public const string LogoutEndpoint = "/auth/logout";
    public const string DeniedPath = "/denied";

    /// <summary>
    /// The sign-in cookies are <c>Secure</c> always outside Development, whatever scheme the request arrived with:
    /// behind a TLS-terminating proxy the Admin sees http, and a session cookie sent over plain http is a stolen
    /// session. (The antiforgery cookie keeps its default, secure on https requests: it is no credential, and forcing
    /// it makes the framework refuse every form on a request it does not see as https.)
    /// </summary>
    public static CookieSecurePolicy CookieSecurity(IHostEnvironment environment) =>
        environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;

    public static IHostApplicationBuilder AddAdminAuthentication(this IHostApplicationBuilder builder)
    {
        var secure = CookieSecurity(builder.Environment);
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = "aignehub.admin";
                options.Cookie.HttpOnly = true;
                options.Cookie.SecurePolicy = secure;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.LoginPath = SignInPath;
                options.AccessDeniedPath = DeniedPath;
                options.ReturnUrlParameter = "returnUrl";
                options.SlidingExpiration = true;
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicies.Admin, p => p.RequireAuthenticatedUser().RequireRole(AdminRoles.Owner, AdminRoles.Admin))
            .AddPolicy(AdminPolicies.Member, p => p.RequireAuthenticatedUser());
        builder.Services.AddCascadingAuthenticationState();
        builder.AddAdminOidc();
        return builder;
    }

    public static IEndpointRouteBuilder MapAdminAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(LoginEndpoint, LoginAsync).WithName("AdminLogin").WithSummary("Signs in with email and password (form post).")
            .WithTags("Admin auth").AllowAnonymous();
        app.MapPost(WalletLoginEndpoint, WalletLoginAsync).WithName("AdminWalletLogin")
            .WithSummary("Signs in with a did:key: the signed challenge message (form post).").WithTags("Admin auth").AllowAnonymous();
        app.MapGet(OidcLoginEndpoint, OidcLogin).WithName("AdminOidcLogin")
            .WithSummary("Starts the OpenID Connect sign-in with the configured provider.").WithTags("Admin auth").AllowAnonymous();
        app.MapPost(LogoutEndpoint, LogoutAsync).WithName("AdminLogout").WithSummary("Revokes the session and clears the cookie (form post).")
            .WithTags("Admin auth").RequireAuthorization(AdminPolicies.Member);
        return app;
    }

    internal static async Task<IResult> LoginAsync(HttpContext context, [FromForm] string? email, [FromForm] string? password,
        [FromForm] string? returnUrl, AuthApiClient auth, CancellationToken ct)
    {
        var back = SafeReturnUrl(returnUrl);
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password))
        {
            return Results.Redirect(SignInUrl(back, "Enter your email and password."));
        }
        SessionResponse login;
        try
        {
            login = await auth.LoginAsync(email.Trim(), password, ct);
        }
        catch (ApiException ex)
        {
            return Results.Redirect(SignInUrl(back, ex.Message));
        }

        return Results.LocalRedirect(await SignInAsync(context, login, back));
    }

    internal static async Task<IResult> WalletLoginAsync(HttpContext context, [FromForm] string? did, [FromForm] string? nonce,
        [FromForm] string? signature, [FromForm] string? returnUrl, AuthApiClient auth, CancellationToken ct)
    {
        var back = SafeReturnUrl(returnUrl);
        if (string.IsNullOrWhiteSpace(did) || string.IsNullOrWhiteSpace(nonce) || string.IsNullOrWhiteSpace(signature))
        {
            return Results.Redirect(WalletSignInUrl(back, "Ask for a message, sign it and paste the signature."));
        }
        SessionResponse login;
        try
        {
            login = await auth.WalletVerifyAsync(did.Trim(), nonce.Trim(), signature.Trim(), ct);
        }
        catch (ApiException ex)
        {
            // The nonce is spent whatever the outcome, so the page starts over with a new message.
            return Results.Redirect(WalletSignInUrl(back, ex.Message));
        }
        return Results.LocalRedirect(await SignInAsync(context, login, back));
    }

    internal static IResult OidcLogin(HttpContext context, [FromQuery] string? returnUrl, IOptions<AdminOidcOptions> oidc)
    {
        var back = SafeReturnUrl(returnUrl);
        if (!oidc.Value.Enabled)
        {
            return Results.Redirect(SignInUrl(back, "Single sign-on is not configured on this dashboard."));
        }
        return Results.Challenge(new AuthenticationProperties { RedirectUri = back }, [AdminOidcExtensions.Scheme]);
    }

    /// <summary>The Admin's cookie principal for an Api session: the token rides inside the encrypted cookie.</summary>
    internal static ClaimsPrincipal PrincipalFor(SessionResponse login) => new(new ClaimsIdentity(
        [
            new Claim(AdminClaims.UserId, login.User.Id.ToString()),
            new Claim(ClaimTypes.NameIdentifier, login.User.Id.ToString()),
            new Claim(ClaimTypes.Name, login.User.DisplayName ?? login.User.Email),
            new Claim(AdminClaims.Email, login.User.Email),
            new Claim(AdminClaims.Role, login.User.Role),
            new Claim(AdminClaims.Token, login.Token),
        ], CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role));

    /// <summary>Sets the session cookie properties; the cookie must not outlive the session it carries.</summary>
    internal static void ApplySession(AuthenticationProperties properties, SessionResponse login)
    {
        properties.IsPersistent = false;
        if (login.ExpiresAt is { } expires)
        {
            properties.ExpiresUtc = expires;
        }
    }

    /// <summary>Members have no overview: they land on their own page rather than on "not authorized".</summary>
    internal static string LandingUrl(ClaimsPrincipal principal, string returnUrl) =>
        returnUrl == "/" && !principal.IsAdmin() ? "/me/usage" : returnUrl;

    /// <summary>Every sign-in method ends here: one cookie shape whatever proved the person's identity.</summary>
    internal static async Task<string> SignInAsync(HttpContext context, SessionResponse login, string returnUrl)
    {
        var principal = PrincipalFor(login);
        var properties = new AuthenticationProperties();
        ApplySession(properties, login);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal, properties);
        return LandingUrl(principal, returnUrl);
    }

    internal static async Task<IResult> LogoutAsync(HttpContext context, AuthApiClient auth, ILoggerFactory loggers, CancellationToken ct)
    {
        if (context.User.FindFirstValue(AdminClaims.Token) is { Length: > 0 } token)
        {
            try
            {
                await auth.LogoutAsync(token, ct);
            }
            catch (ApiException ex)
            {
                // Signing out locally still matters when the Api cannot revoke (it may already be gone).
                loggers.CreateLogger("AigneHub.Admin.Auth").LogWarning("The Api did not revoke the session: {Message}", ex.Message);
            }
        }
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Redirect(SignInPath);
    }

    /// <summary>
    /// Only local paths: an open redirect after sign-in would hand the session to a phishing page. The framework's
    /// check (the one <c>LocalRedirect</c> enforces) also refuses control characters, which browsers drop:
    /// <c>/\t/evil.example</c> is <c>//evil.example</c> to them. <c>~/x</c> is local and becomes <c>/x</c>.
    /// </summary>
    internal static string SafeReturnUrl(string? returnUrl) =>
        RedirectHttpResult.IsLocalUrl(returnUrl)
            ? returnUrl.StartsWith("~/", StringComparison.Ordinal) ? returnUrl[1..] : returnUrl
            : "/";

    internal static string SignInUrl(string returnUrl, string error) =>
        $"{SignInPath}?returnUrl={Uri.EscapeDataString(returnUrl)}&error={Uri.EscapeDataString(error)}";

    internal static string WalletSignInUrl(string returnUrl, string error) =>
        $"{WalletSignInPath}?returnUrl={Uri.EscapeDataString(returnUrl)}&error={Uri.EscapeDataString(error)}";
}
