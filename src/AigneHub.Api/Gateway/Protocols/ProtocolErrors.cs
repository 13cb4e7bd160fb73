using System.Text.Json.Nodes;

namespace AigneHub.Api.Gateway.Protocols;

/// <summary>
/// Refusals written as a protocol's error body (each protocol's shape lives in its folder: <c>OpenAiErrors</c>,
/// <c>AigneErrors</c>). Never used once the answer has started: after that, failures go in-stream.
/// </summary>
public static class ProtocolErrors
{
    /// <summary>The error as <paramref name="body"/>, with its status, <c>Retry-After</c> and <c>link</c>.</summary>
    public static IResult Write(GatewayException ex, JsonObject body)
    {
        if (ex.Link is not null && body["error"] is JsonObject e && !e.ContainsKey("link"))
        {
            e["link"] = ex.Link;
        }
        return new ErrorResult(ex.Status, body, ex.RetryAfterSeconds);
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
}
