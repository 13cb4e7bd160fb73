using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace AigneHub.Api.Gateway.Protocols;

/// <summary>The body of an AI route: one JSON object, bounded in size, read into <see cref="JsonFields"/>.</summary>
public static class CallerBody
{
    /// <summary>Largest JSON body accepted on AI routes (images inline as base64 make bodies big, but not unbounded).</summary>
    public const long MaxBytes = 20 * 1024 * 1024;

    /// <summary>A member written twice is refused at parse time: the JSON object could not hold both (it would throw
    /// on first access), and which one a provider would honour is anyone's guess.</summary>
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    /// <summary>Reads the body as a JSON object: 413 when too large, 400 when not JSON, not an object or not valid text.</summary>
    public static async Task<JsonFields> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBytes)
        {
            throw TooLarge();
        }
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = MaxBytes;
        }
        // Sized from Content-Length, but not trusting it for more than a first megabyte before the bytes arrive.
        using var buffer = new MemoryStream((int)Math.Clamp(context.Request.ContentLength ?? 4096, 256, 1024 * 1024));
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>
    /// Parses a body. Besides well-formed JSON, every escaped string must be valid text: System.Text.Json parses a
    /// lone surrogate escape (<c>"\ud800"</c>) but throws wherever the value is later read or written — even when
    /// the body is only forwarded — so it is refused here, once, while the gateway can still say so with a 400.
    /// </summary>
    public static JsonFields Parse(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            CheckEscapedText(utf8.Span);
            return JsonNode.Parse(utf8.Span, documentOptions: DocumentOptions) is JsonObject body
                ? new JsonFields(body, "")
                : throw GatewayException.BadRequest("The request body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw GatewayException.BadRequest($"We could not parse the JSON body of your request: {ex.Message}");
        }
    }

    /// <summary>An escaped string may hold invalid UTF-16 (a lone surrogate), an unescaped one bytes that are not
    /// UTF-8: the reader does not check either until the text is read (a property name is read lazily, when a member
    /// is looked up, which threw past every 400 the protocols write).</summary>
    private static void CheckEscapedText(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !reader.ValueIsEscaped
                && !System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
            {
                throw GatewayException.BadRequest($"The request body holds text that is not valid UTF-8 at byte {reader.TokenStartIndex}.");
            }
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                try
                {
                    reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw GatewayException.BadRequest(
                        $"The request body holds a string that is not valid text (a lone surrogate escape) at byte {reader.TokenStartIndex}.");
                }
            }
        }
    }

    private static GatewayException TooLarge() =>
        new(413, "invalid_request_error", $"The request body is larger than {MaxBytes / (1024 * 1024)} MiB.", code: "request_too_large");
}
