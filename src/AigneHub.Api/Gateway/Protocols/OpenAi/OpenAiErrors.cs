using System.Text.Json.Nodes;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

public static class OpenAiErrors
{
    /// <summary>OpenAI's <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static IResult Shape(GatewayException ex) => ProtocolErrors.Write(ex, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = ex.Message,
            ["type"] = ex.Type,
            ["param"] = ex.Param,
            ["code"] = ex.Code,
        },
    });

    /// <summary>A provider failure after the stream started: an error event, and no <c>[DONE]</c>.</summary>
    public static JsonObject StreamEvent(string message) =>
        new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = "api_error", ["param"] = null, ["code"] = "provider_error" } };
}
