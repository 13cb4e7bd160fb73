using System.Reflection;
using AigneHub.Api;
using NetArchTest.Rules;

namespace AigneHub.Tests.Architecture;

/// <summary>
/// Who may reference whom (docs/designs/architecture.md): provider adapters know only the provider's side of the
/// wire, billing knows nothing of the gateway. Checked on the built assembly, so the line holds after every commit.
/// </summary>
public sealed class LayerTests
{
    /// <summary>The caller's side of the wire: the gateway, the HTTP request and the HTTP result types.</summary>
    private static readonly string[] CallerSide =
    [
        "AigneHub.Api.Gateway",
        "Microsoft.AspNetCore.Http.HttpContext",
        "Microsoft.AspNetCore.Http.IResult",
        "Microsoft.AspNetCore.Http.Results",
        "Microsoft.AspNetCore.Http.TypedResults",
        "Microsoft.AspNetCore.Http.HttpResults",
    ];

    private static readonly Assembly Api = typeof(ApiAssembly).Assembly;

    [Fact]
    public void Providers_do_not_reference_the_gateway_the_http_context_or_http_results() =>
        Assert.Empty(Violations(Api, "AigneHub.Api.Providers", CallerSide));

    [Fact]
    public void Billing_does_not_reference_the_gateway() =>
        Assert.Empty(Violations(Api, "AigneHub.Api.Billing", "AigneHub.Api.Gateway"));

    [Fact]
    public void The_rule_flags_a_type_that_crosses_the_line()
    {
        var violations = Violations(typeof(LayerTests).Assembly, typeof(BadLayer.AdapterThatWritesToTheCaller).Namespace!, CallerSide);

        Assert.Equal(
            new[] { typeof(BadLayer.AdapterThatWritesToTheCaller).FullName!, typeof(BadLayer.AdapterThatThrowsGatewayErrors).FullName! }.Order(StringComparer.Ordinal),
            violations.Order(StringComparer.Ordinal));
    }

    private static List<string> Violations(Assembly assembly, string layer, params string[] forbidden) =>
        Types.InAssembly(assembly).That().ResideInNamespace(layer)
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult().FailingTypeNames?.ToList() ?? [];
}
