using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Ideogram;

/// <summary>
/// Ideogram 3.0: <c>POST {baseUrl}v1/ideogram-v3/generate</c>, a multipart form (<c>prompt</c>, <c>num_images</c>,
/// <c>aspect_ratio</c> such as <c>16x9</c>, <c>rendering_speed</c>, <c>style_type</c>), the key in an <c>Api-Key</c>
/// header → <c>{created: date-time, data:[{url, prompt, resolution, seed, is_image_safe, style_type}]}</c>.
/// <para>Limitations: every catalogue model of the kind (by convention <see cref="Model"/>) is Ideogram 3.0, the one
/// endpoint this adapter speaks (the legacy V_1/V_2 <c>generate</c> is not); at most <see cref="MaxImages"/> images a
/// request — a larger <c>n</c> is refused with a 400 before anything is reserved (not split); a <c>{w}x{h}</c> size
/// becomes the nearest of Ideogram's aspect ratios (its exact <c>resolution</c> list is not used); <c>quality</c> picks
/// the rendering speed (<c>low</c> → TURBO, <c>hd</c>/<c>high</c> → QUALITY, anything else the default) and a
/// <c>style</c> that names an Ideogram style type (AUTO, GENERAL, REALISTIC, DESIGN, FICTION) is passed, any other
/// (OpenAI's vivid/natural) dropped; negative prompts, seeds, color palettes, style codes and reference images are
/// not offered. MagicPrompt stays Ideogram's default: the prompt it drew from comes back as the revised prompt.
/// Ideogram answers links that expire; when the caller asked for base64 each image is fetched from its link (without
/// the key). Images that fail Ideogram's safety check have no link and are not returned; when none is left the call
/// is a 400. Ideogram reports no usage: the prompt estimate is recorded.</para>
/// <para>No chat: the gateway refuses chat to this kind before anything is reserved. No model list (Ideogram has no
/// models endpoint: the Admin is offered <see cref="Model"/>), and no key test (Ideogram has no call that costs
/// nothing: a key is checked by its first image call, a 401 deactivating it).</para>
/// </summary>
public sealed class IdeogramImageAdapter(ProviderHttp http) : IImageAdapter
{
    /// <summary>The model name the catalogue gives Ideogram 3.0.</summary>
    public const string Model = "ideogram-v3";

    public const int MaxImages = 8;

    private static readonly string[] AspectRatios = ["1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10", "2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1"];

    private static readonly string[] StyleTypes = ["AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION"];

    public string? Refusal(ProviderKind kind, ImageRequest request) =>
        request.N > MaxImages ? $"Ideogram generates at most {MaxImages} images a request; 'n' is {request.N}." : null;

    public async Task<ImageResponse> GenerateAsync(ProviderEndpoint endpoint, ImageRequest request, CancellationToken cancellationToken)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(request.Prompt), "prompt" },
            { new StringContent(request.N.ToString(CultureInfo.InvariantCulture)), "num_images" },
        };
        if (MediaSize.NearestAspectRatio(request.Size, AspectRatios) is { } ratio) { form.Add(new StringContent(ratio), "aspect_ratio"); }
        if (RenderingSpeed(request.Quality) is { } speed) { form.Add(new StringContent(speed), "rendering_speed"); }
        if (StyleTypes.FirstOrDefault(s => string.Equals(s, request.Style, StringComparison.OrdinalIgnoreCase)) is { } style)
        {
            form.Add(new StringContent(style), "style_type");
        }
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "v1/ideogram-v3/generate")) { Content = form };
        if (endpoint.ApiKey is { Length: > 0 } key)
        {
            message.Headers.TryAddWithoutValidation("Api-Key", key);
        }
        var answer = await http.PostJsonAsync(endpoint, message, cancellationToken);

        var links = (answer["data"] as JsonArray ?? [])
            .Where(d => d?["is_image_safe"] is not JsonValue safe || safe.GetValueKind() != JsonValueKind.False)
            .Select(d => (Url: ProviderHttp.StringOf(d?["url"]), Prompt: ProviderHttp.StringOf(d?["prompt"])))
            .Where(d => d.Url is not null && Uri.TryCreate(d.Url, UriKind.Absolute, out var u) && u.Scheme is "https" or "http")
            .ToList();
        if (links.Count == 0)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.BadRequest, 200, $"{endpoint.Provider} returned no image that passed its safety check.");
        }
        var images = new List<GeneratedImage>(links.Count);
        foreach (var (url, prompt) in links)
        {
            var revised = prompt is not null && prompt != request.Prompt ? prompt : null;
            if (request.ResponseFormat != "b64_json")
            {
                images.Add(new GeneratedImage(url, null, revised));
                continue;
            }
            using var get = new HttpRequestMessage(HttpMethod.Get, url);
            var (bytes, contentType) = await http.GetBytesAsync(endpoint, get, cancellationToken);
            images.Add(new GeneratedImage(null, Convert.ToBase64String(bytes.Span), revised, contentType is { } t && t.StartsWith("image/", StringComparison.Ordinal) ? t : null));
        }
        var created = ProviderHttp.StringOf(answer["created"]) is { } c && DateTimeOffset.TryParse(c, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.ToUnixTimeSeconds() : DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new ImageResponse(created, images, Usage: null);
    }

    private static string? RenderingSpeed(string? quality) => quality?.ToLowerInvariant() switch
    {
        "low" => "TURBO",
        "hd" or "high" => "QUALITY",
        _ => null,
    };
}
