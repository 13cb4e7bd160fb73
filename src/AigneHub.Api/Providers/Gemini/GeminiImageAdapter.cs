using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Gemini;

/// <summary>
/// Image generation through the Gemini API (key in <c>x-goog-api-key</c>), by model family:
/// <list type="bullet">
/// <item><b>Imagen</b> (<c>imagen-*</c>): <c>POST models/{model}:predict</c> with <c>{instances:[{prompt}],
/// parameters:{sampleCount, aspectRatio, imageSize?}}</c> → <c>predictions[]</c> of <c>{bytesBase64Encoded,
/// mimeType}</c>. At most <see cref="MaxImagenImages"/> images a request: a larger <c>n</c> is refused with a 400
/// before anything is reserved (not split). Imagen reports no usage: the prompt estimate is recorded.</item>
/// <item><b>Gemini image models</b> (<c>gemini-*-image*</c>): <c>POST models/{model}:generateContent</c> with the
/// prompt as one user turn and <c>generationConfig:{responseModalities:["IMAGE"], imageConfig:{aspectRatio,
/// imageSize?}}</c> → every <c>inlineData</c> part of the candidates is an image; <c>usageMetadata</c> is the usage
/// (mapped as chat's). One image a request: <c>n</c> > 1 is refused with a 400 before anything is reserved.</item>
/// </list>
/// Limitations: a <c>{w}x{h}</c> size becomes the nearest aspect ratio each family offers; a size written
/// <c>1K</c>/<c>2K</c>/<c>4K</c> goes as <c>imageSize</c> (which Imagen Fast and Gemini 2.5 Flash Image refuse —
/// their 400 is passed on); <c>quality</c> and <c>style</c> are dropped, as are Imagen's <c>personGeneration</c>,
/// <c>negativePrompt</c> and watermark switch (the neutral request has none; Google's defaults apply). Both answer
/// bytes only, so a caller that asked for a URL gets base64 (as the reference hub does for Google). Images filtered by
/// Google's safety checks are not returned; when every one is, the call is a 400 naming the reason.
/// </summary>
public sealed class GeminiImageAdapter(ProviderHttp http) : IImageAdapter
{
    public const int MaxImagenImages = 4;

    private static readonly string[] ImagenRatios = ["1:1", "3:4", "4:3", "9:16", "16:9"];

    private static readonly string[] GeminiImageRatios = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];

    public string? Refusal(ProviderKind kind, ImageRequest request) => Family(request.Model) switch
    {
        ImageFamily.Imagen when request.N > MaxImagenImages => $"Imagen generates at most {MaxImagenImages} images a request; 'n' is {request.N}.",
        ImageFamily.Gemini when request.N > 1 => $"Gemini image models generate one image a request; 'n' is {request.N}.",
        ImageFamily.None => $"'{request.Model}' is not a Gemini image model (imagen-* or gemini-*-image*).",
        _ => null,
    };

    public async Task<ImageResponse> GenerateAsync(ProviderEndpoint endpoint, ImageRequest request, CancellationToken cancellationToken)
    {
        var imagen = Family(request.Model) == ImageFamily.Imagen;
        var ratio = MediaSize.NearestAspectRatio(request.Size, imagen ? ImagenRatios : GeminiImageRatios);
        var imageSize = request.Size is "1K" or "2K" or "4K" ? request.Size : null;
        using var message = imagen
            ? GeminiHttp.CreateRequest(endpoint, request.Model, "predict", ImagenBody(request, ratio, imageSize))
            : GeminiHttp.CreateRequest(endpoint, request.Model, "generateContent", GeminiBody(request, ratio, imageSize));
        var answer = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var (images, filtered) = imagen ? ReadPredictions(answer) : ReadCandidates(answer);
        if (images.Count == 0)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.BadRequest, 200,
                filtered is { Length: > 0 } ? $"{endpoint.Provider} filtered the image: {filtered}" : $"{endpoint.Provider} produced no image.");
        }
        return new ImageResponse(created, images, imagen ? null : GeminiMapping.ReadUsage(answer["usageMetadata"]));
    }

    private static JsonObject ImagenBody(ImageRequest request, string? ratio, string? imageSize)
    {
        var parameters = new JsonObject { ["sampleCount"] = request.N };
        if (ratio is not null) { parameters["aspectRatio"] = ratio; }
        if (imageSize is not null) { parameters["imageSize"] = imageSize; }
        return new JsonObject
        {
            ["instances"] = new JsonArray(new JsonObject { ["prompt"] = request.Prompt }),
            ["parameters"] = parameters,
        };
    }

    private static JsonObject GeminiBody(ImageRequest request, string? ratio, string? imageSize)
    {
        var config = new JsonObject { ["responseModalities"] = new JsonArray("IMAGE") };
        var imageConfig = new JsonObject();
        if (ratio is not null) { imageConfig["aspectRatio"] = ratio; }
        if (imageSize is not null) { imageConfig["imageSize"] = imageSize; }
        if (imageConfig.Count > 0) { config["imageConfig"] = imageConfig; }
        return new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["parts"] = new JsonArray(new JsonObject { ["text"] = request.Prompt }),
            }),
            ["generationConfig"] = config,
        };
    }

    /// <summary>Imagen's predictions; a filtered one carries <c>raiFilteredReason</c> instead of bytes.</summary>
    private static (List<GeneratedImage> Images, string? Filtered) ReadPredictions(JsonNode answer)
    {
        var images = new List<GeneratedImage>();
        var reasons = new List<string>();
        foreach (var prediction in answer["predictions"] as JsonArray ?? [])
        {
            if (ProviderHttp.StringOf(prediction?["bytesBase64Encoded"]) is { Length: > 0 } data)
            {
                images.Add(new GeneratedImage(null, data, null, ProviderHttp.StringOf(prediction?["mimeType"]) ?? "image/png"));
            }
            else if (ProviderHttp.StringOf(prediction?["raiFilteredReason"]) is { Length: > 0 } reason)
            {
                reasons.Add(reason);
            }
        }
        return (images, string.Join("; ", reasons));
    }

    /// <summary>Every <c>inlineData</c> part of every candidate; a blocked prompt says why in <c>promptFeedback</c>.</summary>
    private static (List<GeneratedImage> Images, string? Filtered) ReadCandidates(JsonNode answer) =>
        ([.. GeminiMapping.InlineData(answer).Select(d => new GeneratedImage(null, d.Data, null, d.MimeType ?? "image/png"))], GeminiMapping.BlockedReason(answer));

    private enum ImageFamily { None, Imagen, Gemini }

    private static ImageFamily Family(string model)
    {
        var id = model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;
        return id.StartsWith("imagen-", StringComparison.OrdinalIgnoreCase) ? ImageFamily.Imagen
            : id.StartsWith("gemini-", StringComparison.OrdinalIgnoreCase) && id.Contains("-image", StringComparison.OrdinalIgnoreCase) ? ImageFamily.Gemini
            : ImageFamily.None;
    }
}
