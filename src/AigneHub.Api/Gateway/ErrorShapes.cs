using System.Text.Json.Nodes;

namespace AigneHub.Api.Gateway;

/// <summary>Writes refusals in the caller's protocol. Never used once a response has started.</summary>
public static class ErrorShapes
{
    /// <summary>OpenAI's <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static IResult OpenAi(GatewayException ex) => Write(ex, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = ex.Message,
            ["type"] = ex.Type,
            ["param"] = ex.Param,
            ["code"] = ex.Code,
        },
    });

    /// <summary>AIGNE's <c>{"error":{"message","type"}}</c> (plus <c>link</c> when there is one).</summary>
    public static IResult Aigne(GatewayException ex)
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
        return Write(ex, new JsonObject { ["error"] = error });
    }

    private static IResult Write(GatewayException ex, JsonObject body)
    {
        if (ex.Link is not null && body["error"] is JsonObject e && !e.ContainsKey("link"))
        {
            e["link"] = ex.Link;
        }
        return new ErrorResult(ex.Status, body, ex.RetryAfterSeconds);
    }

    private sealed class ErrorResult(int status, JsonObject body, int? retryAfter) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            if (context.Response.HasStarted)
            {
                return;
            }
            context.Response.StatusCode = status;
            if (retryAfter is int seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
        }
    }

    /// <summary>An endpoint filter: a <see cref="GatewayException"/> thrown by the handler becomes the protocol's error.</summary>
    public static RouteGroupBuilder WithGatewayErrors(this RouteGroupBuilder group, Func<GatewayException, IResult> shape)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (GatewayException ex)
            {
                return shape(ex);
            }
        });
        return group;
    }
}
