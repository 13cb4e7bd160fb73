using AigneHub.Api.Gateway;
using Microsoft.AspNetCore.Http;

// Deliberate violations, so LayerTests shows its rule can fail. Nothing uses these types.
namespace AigneHub.Tests.Architecture.BadLayer;

internal sealed class AdapterThatWritesToTheCaller
{
    public static Task AnswerAsync(HttpContext context) => context.Response.WriteAsync("an adapter must not do this");
}

internal sealed class AdapterThatThrowsGatewayErrors
{
    public static Exception Refuse() => GatewayException.BadRequest("an adapter must not do this");
}

internal sealed class AdapterThatStaysOnItsSide
{
    public static string Name => "fine";
}
