using System.Net.Http.Headers;
using System.Security.Claims;
using AigneHub.Admin.Auth;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace AigneHub.Admin.Api;

/// <summary>
/// Adds <c>Authorization: Bearer &lt;session token&gt;</c> of the signed-in user to every Api call. The token lives
/// in the encrypted auth cookie as a claim. During prerendering the user comes from the HTTP request; inside an
/// interactive circuit there is no request, so the user comes from the circuit's authentication state, reached via
/// <see cref="CircuitServicesAccessor"/> (typed clients' handlers live in their own DI scope).
/// </summary>
public sealed class ApiAccessTokenHandler(CircuitServicesAccessor circuit, IHttpContextAccessor httpContext) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null && await CurrentUserAsync() is { } user && user.FindFirstValue(AdminClaims.Token) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await base.SendAsync(request, cancellationToken);
    }

    private async Task<ClaimsPrincipal?> CurrentUserAsync()
    {
        if (circuit.Services?.GetService<AuthenticationStateProvider>() is { } provider)
        {
            return (await provider.GetAuthenticationStateAsync()).User;
        }
        return httpContext.HttpContext?.User;
    }
}

/// <summary>The services of the circuit whose inbound activity is running on this async flow.</summary>
public sealed class CircuitServicesAccessor
{
    private static readonly AsyncLocal<IServiceProvider?> _current = new();

    public IServiceProvider? Services
    {
        get => _current.Value;
        set => _current.Value = value;
    }
}

/// <summary>Publishes the circuit's services to <see cref="CircuitServicesAccessor"/> around every inbound activity.</summary>
public sealed class CircuitServicesActivityHandler(IServiceProvider services, CircuitServicesAccessor accessor) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            accessor.Services = services;
            await next(context);
            accessor.Services = null;
        };
}
