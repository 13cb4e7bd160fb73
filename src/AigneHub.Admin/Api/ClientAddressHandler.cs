using System.Net;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace AigneHub.Admin.Api;

/// <summary>
/// Tells the Api who the person at the browser is, network-wise: every Api call carries <c>X-Forwarded-For</c> with
/// the browser's address (as this Admin sees it, after its own trusted proxies). Without it every person signing in
/// through the Admin would share one per-address budget, and the audit log would show the Admin's address for every
/// change. The Api honours the header only from addresses listed in its <c>AigneHub:ForwardedHeaders</c>.
/// </summary>
public sealed class ClientAddressHandler(CircuitServicesAccessor circuit, IHttpContextAccessor httpContext) : DelegatingHandler
{
    public const string Header = "X-Forwarded-For";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var address = circuit.Services?.GetService<CircuitClientAddress>()?.Address ?? httpContext.HttpContext?.Connection.RemoteIpAddress;
        request.Headers.Remove(Header);
        if (address is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString());
        }
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The address of the browser that opened this circuit (circuit-scoped): inside a circuit there is no request.</summary>
public sealed class CircuitClientAddress
{
    public IPAddress? Address { get; set; }
}

/// <summary>Captures <see cref="CircuitClientAddress"/> when the circuit opens, from the connection that opened it.</summary>
public sealed class CircuitClientAddressHandler(CircuitClientAddress address, IHttpContextAccessor httpContext) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        address.Address ??= httpContext.HttpContext?.Connection.RemoteIpAddress;
        return Task.CompletedTask;
    }
}
