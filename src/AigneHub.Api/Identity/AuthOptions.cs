using AigneHub.Data.Identity;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Identity;

/// <summary>Configuration <c>AigneHub:Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string Section = "AigneHub:Auth";

    /// <summary>
    /// Where people open links the hub hands out (the Admin app), e.g. the CLI connect page
    /// <c>{PublicBaseUrl}/connect/{id}</c>. Unset: the Api's own origin as the request saw it.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Password sign-ins per (email, client address) before each further one waits longer (see <c>LoginThrottle</c>).</summary>
    public int MaxFailedLogins { get; set; } = 5;

    /// <summary>How long failures are remembered after the last attempt, and the longest wait between two attempts.</summary>
    public TimeSpan LockoutWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Failed sign-ins of one email from all addresses within <see cref="LockoutWindow"/> past which every address
    /// gets a single free attempt: slows a distributed guesser, never locks out a correct password.
    /// </summary>
    public int MaxFailedLoginsPerEmail { get; set; } = 50;

    public OidcOptions Oidc { get; set; } = new();

    /// <summary>Who may create an account by signing in with an identity the hub has not seen (wallet or SSO).</summary>
    public RegistrationPolicy Registration { get; set; } = RegistrationPolicy.Closed;

    /// <summary>The role of accounts made under <see cref="RegistrationPolicy.Open"/>: <c>member</c> or <c>guest</c>.</summary>
    public string DefaultRole { get; set; } = RoleNames.Member;

    /// <summary>How long a key issued through the CLI connect flow lives.</summary>
    public TimeSpan ConnectKeyLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary><see cref="DefaultRole"/> parsed (validation has made sure it parses).</summary>
    public UserRole DefaultUserRole => RoleNames.TryParse(DefaultRole, out var role) ? role : UserRole.Guest;
}

/// <summary>
/// <c>AigneHub:Auth:Registration</c>. <see cref="Closed"/> (the default) suits a hub whose people an admin creates;
/// <see cref="Invite"/> lets only identities named by an invitation in; <see cref="Open"/> lets anyone in with
/// <see cref="AuthOptions.DefaultRole"/> — with billing off that is free use of the hub's provider keys.
/// </summary>
public enum RegistrationPolicy
{
    Closed = 0,
    Invite = 1,
    Open = 2,
}

/// <summary>
/// <c>AigneHub:Auth:Oidc</c>: an enterprise identity provider for people's sign-in. Off unless <see cref="Authority"/>
/// is set; then all three are required. The browser flow belongs to the Admin app (the OIDC client, which holds the
/// secret); the Api validates the ID token the Admin hands it (<c>POST /api/auth/oidc/exchange</c>) against
/// <see cref="Authority"/> and <see cref="ClientId"/> and issues a hub session. Both apps read this same section.
/// </summary>
public sealed class OidcOptions
{
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }

    /// <summary>What the sign-in button calls the provider ("Sign in with …"), e.g. "Contoso SSO".</summary>
    public string? DisplayName { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
}

internal sealed class ValidateAuthOptions : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        List<string> problems = [];
        if (!string.IsNullOrWhiteSpace(options.PublicBaseUrl) && !IsHttpUrl(options.PublicBaseUrl, requireHttps: false))
        {
            problems.Add($"{AuthOptions.Section}:PublicBaseUrl must be an absolute http(s) URL.");
        }
        if (options.SessionLifetime < TimeSpan.FromMinutes(5) || options.SessionLifetime > TimeSpan.FromDays(30))
        {
            problems.Add($"{AuthOptions.Section}:SessionLifetime must be between 00:05:00 and 30.00:00:00.");
        }
        if (options.MaxFailedLogins < 1)
        {
            problems.Add($"{AuthOptions.Section}:MaxFailedLogins must be at least 1.");
        }
        if (options.MaxFailedLoginsPerEmail < options.MaxFailedLogins)
        {
            problems.Add($"{AuthOptions.Section}:MaxFailedLoginsPerEmail must be at least {AuthOptions.Section}:MaxFailedLogins.");
        }
        if (options.LockoutWindow < TimeSpan.FromSeconds(1))
        {
            problems.Add($"{AuthOptions.Section}:LockoutWindow must be at least 00:00:01.");
        }
        if (!Enum.IsDefined(options.Registration))
        {
            problems.Add($"{AuthOptions.Section}:Registration must be closed, invite or open.");
        }
        if (!RoleNames.TryParse(options.DefaultRole, out var defaultRole) || defaultRole is not (UserRole.Member or UserRole.Guest))
        {
            problems.Add($"{AuthOptions.Section}:DefaultRole must be member or guest (admins are made by an owner).");
        }
        if (options.ConnectKeyLifetime < TimeSpan.FromHours(1) || options.ConnectKeyLifetime > TimeSpan.FromDays(366))
        {
            problems.Add($"{AuthOptions.Section}:ConnectKeyLifetime must be between 01:00:00 and 366.00:00:00.");
        }
        var oidc = options.Oidc;
        var anyOidc = !string.IsNullOrWhiteSpace(oidc.Authority) || !string.IsNullOrWhiteSpace(oidc.ClientId) || !string.IsNullOrWhiteSpace(oidc.ClientSecret);
        if (anyOidc)
        {
            if (string.IsNullOrWhiteSpace(oidc.Authority) || !IsHttpUrl(oidc.Authority, requireHttps: true))
            {
                problems.Add($"{AuthOptions.Section}:Oidc:Authority must be an absolute https URL (http only for localhost) when OIDC is configured.");
            }
            if (string.IsNullOrWhiteSpace(oidc.ClientId))
            {
                problems.Add($"{AuthOptions.Section}:Oidc:ClientId is required when OIDC is configured.");
            }
            if (string.IsNullOrWhiteSpace(oidc.ClientSecret))
            {
                problems.Add($"{AuthOptions.Section}:Oidc:ClientSecret is required when OIDC is configured.");
            }
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static bool IsHttpUrl(string value, bool requireHttps) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && (!requireHttps || uri.IsLoopback)));
}
