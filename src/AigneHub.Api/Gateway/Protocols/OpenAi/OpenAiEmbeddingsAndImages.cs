using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

internal static class OpenAiEmbeddings
{
    /// <summary>An OpenAI <c>embeddings</c> request, and whether the caller wants base64 vectors.</summary>
    public static (EmbeddingRequest Request, bool Base64) Read(JsonFields body)
    {
        var model = JsonFields.RequireModel(body["model"], "model");
        var inputs = EmbeddingInput.Read(body["input"], "input");
        var base64 = body.OneOf("encoding_format", "float", "base64") == "base64";
        return (new EmbeddingRequest { Model = model, Inputs = inputs, Dimensions = body.PositiveInt("dimensions") }, base64);
    }
}

internal static class OpenAiImages
{
    /// <summary>An OpenAI <c>images/generations</c> request, and the parameters kept on the call record.</summary>
    public static (ImageRequest Request, JsonObject Parameters) Read(JsonFields body)
    {
        var request = ImageInput.Read(body, JsonFields.RequireModel(body["model"], "model"),
            () => body.OneOf("response_format", "url", "b64_json") ?? "url");
        return (request, body.Kept("n", "size", "quality", "style", "response_format"));
    }

    /// <summary>An OpenAI <c>images/edits</c> form: the options read as a generation's (an <c>n</c> that is no
    /// number is a 400 naming it), one or more images in <c>image</c> or <c>image[]</c>, an optional <c>mask</c>.</summary>
    public static (ImageEditRequest Request, JsonObject Parameters) ReadEdit(UploadForm form)
    {
        var body = new JsonObject();
        foreach (var name in (string[])["model", "prompt", "n", "size", "quality", "response_format"])
        {
            if (form.Single(name) is { } value)
            {
                // A form's n is text; as a JSON number it is read like a generation's (a parsed token, as the reader expects).
                body[name] = name == "n" && int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
                    ? JsonNode.Parse(value)
                    : value;
            }
        }
        var (image, parameters) = Read(new JsonFields(body, ""));
        var images = form.FilesOf("image", "image[]");
        if (images.Count == 0)
        {
            throw GatewayException.BadRequest("'image' is required: the image to edit.", "image");
        }
        var mask = form.FilesOf("mask") is [var m] ? m : null;
        return (new ImageEditRequest(image, images, mask), parameters);
    }
}

/// <summary>OpenAI's embedding list: float arrays, or base64 of the little-endian floats.</summary>
internal sealed class OpenAiEmbeddingWriter(HttpContext context, bool base64) : IEmbeddingAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAsync(EmbeddingResponse response, TokenUsage usage, ModelTarget target)
    {
        var data = new JsonArray();
        for (var i = 0; i < response.Embeddings.Count; i++)
        {
            var vector = response.Embeddings[i];
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = base64
                    ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()))
                    : new JsonArray(vector.Select(f => (JsonNode?)f).ToArray()),
            });
        }
        return Caller.WriteJsonAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = response.Model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = usage.InputTokens, ["total_tokens"] = usage.InputTokens },
        });
    }
}

/// <summary>OpenAI's image answer: <c>{created, data:[{url | b64_json, revised_prompt}]}</c>.</summary>
internal sealed class OpenAiImageWriter(HttpContext context) : IImageAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAsync(ImageResponse response, TokenUsage usage, ModelTarget target)
    {
        var data = new JsonArray(response.Images.Select(i =>
        {
            var o = new JsonObject();
            if (i.Url is not null) { o["url"] = i.Url; }
            if (i.Base64Json is not null) { o["b64_json"] = i.Base64Json; }
            if (i.RevisedPrompt is not null) { o["revised_prompt"] = i.RevisedPrompt; }
            return (JsonNode?)o;
        }).ToArray());
        return Caller.WriteJsonAsync(new JsonObject { ["created"] = response.Created, ["data"] = data });
    }
}
