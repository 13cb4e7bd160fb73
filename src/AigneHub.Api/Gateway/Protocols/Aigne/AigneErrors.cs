using System.Text.Json.Nodes;

namespace AigneHub.Api.Gateway.Protocols.Aigne;

public static class AigneErrors
{
    /// <summary>AIGNE's <c>{"error":{"message","type"}}</c> (plus <c>code</c> and <c>link</c> when there are).</summary>
    public static IResult Shape(GatewayException ex)
    {
        var error = new JsonObject { ["message"] = ex.Message, ["type"] = ex.Type };
        if (ex.Code is not null)
        {
            error["code"] = ex.Code;
        }
        if (ex.Link is not null)
        {
            error["link"] = ex.Link;
        }
        return ProtocolErrors.Write(ex, new JsonObject { ["error"] = error });
    }

    /// <summary>A provider failure after the stream started: <c>event: error</c>.</summary>
    public static JsonObject StreamEvent(string message) => new() { ["message"] = message };
}
