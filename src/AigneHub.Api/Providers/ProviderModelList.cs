using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers;

/// <summary>
/// Reads a provider's own model list, so the Admin can offer its ids when an operator adds a catalogue entry:
/// <c>GET {base}models</c> in each wire's shape — OpenAI and its family (<c>data[].id</c>, bearer key), Anthropic
/// (<c>data[].id</c>, <c>x-api-key</c>), Gemini (<c>models[].name</c> without its <c>models/</c> prefix,
/// <c>x-goog-api-key</c>); Ideogram has none, so its one model is offered. Only the first page is read: it is a suggestion list, not a sync.
/// </summary>
public sealed class ProviderModelList(ProviderHttp http)
{
    /// <summary>A model list is one small GET; a provider that does not answer within this has none to offer.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <returns>The ids, sorted; empty for a protocol without a model list.</returns>
    /// <exception cref="ProviderException">The provider refused, failed or sent something unreadable.</exception>
    public async Task<List<string>> ListAsync(ProviderKind kind, Uri baseUrl, string? secret, CancellationToken cancellationToken)
    {
        switch (kind.Protocol)
        {
            case ProviderProtocol.Demo:
                return [];
            case ProviderProtocol.Ideogram:
                // Ideogram has no models endpoint; its one generation API is Ideogram 3.0.
                return [Ideogram.IdeogramImageAdapter.Model];
        }
        var endpoint = new ProviderEndpoint(kind.Name, baseUrl, secret, http.Client);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "models"));
        if (secret is { Length: > 0 })
        {
            switch (kind.Protocol)
            {
                case ProviderProtocol.Anthropic:
                    request.Headers.TryAddWithoutValidation("x-api-key", secret);
                    break;
                case ProviderProtocol.Gemini:
                    request.Headers.TryAddWithoutValidation("x-goog-api-key", secret);
                    break;
                default:
                    request.Headers.Authorization = new("Bearer", secret);
                    break;
            }
        }
        if (kind.Protocol is ProviderProtocol.Anthropic)
        {
            request.Headers.TryAddWithoutValidation(Anthropic.AnthropicChatAdapter.VersionHeader, Anthropic.AnthropicChatAdapter.ApiVersion);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        using var response = await http.SendAsync(endpoint, request, timeout.Token);
        await using var body = http.OpenBody(endpoint, response);
        JsonNode? list;
        try
        {
            list = await JsonNode.ParseAsync(body, cancellationToken: timeout.Token);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ProviderException(kind.Name, ProviderErrorClass.Unavailable, (int)response.StatusCode,
                $"{kind.Name} sent a model list that is not JSON: {ex.Message}", ex);
        }
        var items = kind.Protocol is ProviderProtocol.Gemini ? list?["models"] : list?["data"];
        if (items is not JsonArray array)
        {
            return [];
        }
        var field = kind.Protocol is ProviderProtocol.Gemini ? "name" : "id";
        return [.. array
            .Select(m => m?[field] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null)
            .OfType<string>()
            .Select(id => kind.Protocol is ProviderProtocol.Gemini && id.StartsWith("models/", StringComparison.Ordinal) ? id["models/".Length..] : id)
            .Where(id => id.Length is > 0 and <= 200)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }
}
