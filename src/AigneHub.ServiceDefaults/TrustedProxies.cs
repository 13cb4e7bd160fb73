using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>AigneHub:ForwardedHeaders</c>: who may tell a service the real client address. The framework's own default
/// trusts loopback; here nothing is trusted unless listed, because a client that can set <c>X-Forwarded-For</c>
/// itself would choose its own rate-limit partition (and its audit address) with every request.
/// </summary>
public sealed class TrustedProxyOptions
{
    public const string Section = "AigneHub:ForwardedHeaders";

    /// <summary>Addresses of the proxies (an ingress, the Admin) whose <c>X-Forwarded-For</c>/<c>-Proto</c> count.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks in CIDR form (<c>10.0.0.0/8</c>, <c>127.0.0.0/8</c>) whose hosts count as proxies.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxy hops to unwind, each of which must be trusted (an ingress in front of the Admin is one).</summary>
    public int ForwardLimit { get; set; } = 1;
}

internal sealed class ValidateTrustedProxyOptions : IValidateOptions<TrustedProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustedProxyOptions options)
    {
        List<string> problems = [];
        for (var i = 0; i < options.KnownProxies.Count; i++)
        {
            if (!IPAddress.TryParse(options.KnownProxies[i], out _))
            {
                problems.Add($"{TrustedProxyOptions.Section}:KnownProxies:{i} ('{options.KnownProxies[i]}') is not an IP address.");
            }
        }
        for (var i = 0; i < options.KnownNetworks.Count; i++)
        {
            if (!System.Net.IPNetwork.TryParse(options.KnownNetworks[i], out _))
            {
                problems.Add($"{TrustedProxyOptions.Section}:KnownNetworks:{i} ('{options.KnownNetworks[i]}') is not a network in CIDR form (e.g. 10.0.0.0/8).");
            }
        }
        if (options.ForwardLimit is < 1 or > 10)
        {
            problems.Add($"{TrustedProxyOptions.Section}:ForwardLimit must be between 1 and 10.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

public static class TrustedProxyExtensions
{
    /// <summary>Binds <see cref="TrustedProxyOptions"/> (validated at start) into the framework's forwarded-headers options.</summary>
    public static TBuilder AddTrustedProxies<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<TrustedProxyOptions>().BindConfiguration(TrustedProxyOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TrustedProxyOptions>, ValidateTrustedProxyOptions>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxyOptions>>((forwarded, trusted) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = trusted.Value.ForwardLimit;
            // Drop the framework's implicit loopback entries: only what is configured is trusted.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in trusted.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
            foreach (var network in trusted.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return builder;
    }

    /// <summary>
    /// First in the pipeline, so that everything after it (rate limits, audit, redirects) sees the real client. With
    /// no proxy configured the middleware is left out altogether: given empty lists it would trust every sender.
    /// </summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app)
    {
        var trusted = app.ApplicationServices.GetRequiredService<IOptions<TrustedProxyOptions>>().Value;
        return trusted.KnownProxies.Count == 0 && trusted.KnownNetworks.Count == 0 ? app : app.UseForwardedHeaders();
    }
}
