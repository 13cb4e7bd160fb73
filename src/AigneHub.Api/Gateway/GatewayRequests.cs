using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace AigneHub.Api.Gateway;

public static class GatewayRequests
{
    /// <summary>Largest JSON body accepted on AI routes (images inline as base64 make bodies big, but not unbounded).</summary>
    public const long MaxBodyBytes = 20 * 1024 * 1024;

    /// <summary>Reads the body as a JSON object: 413 when too large, 400 when not JSON or not an object.</summary>
    public static async Task<JsonObject> ReadJsonObjectAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = MaxBodyBytes;
        }
        try
        {
            var node = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            return node as JsonObject ?? throw GatewayException.BadRequest("The request body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw GatewayException.BadRequest($"We could not parse the JSON body of your request: {ex.Message}");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }
    }

    /// <summary>A required model name: present, a string, sane length.</summary>
    public static string RequireModel(JsonNode? node, string param = "model")
    {
        if (node is null)
        {
            throw GatewayException.BadRequest($"'{param}' is required.", param);
        }
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>() is not { Length: > 0 and <= 200 } model)
        {
            throw GatewayException.BadRequest($"'{param}' must be a non-empty string of at most 200 characters.", param);
        }
        return model.Trim();
    }

    public static bool Flag(JsonNode? node, string param) => node switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() is JsonValueKind.False or JsonValueKind.Null => false,
        _ => throw GatewayException.BadRequest($"'{param}' must be a boolean.", param),
    };

    private static GatewayException TooLarge() =>
        new(413, "invalid_request_error", $"The request body is larger than {MaxBodyBytes / (1024 * 1024)} MiB.", code: "request_too_large");
}
