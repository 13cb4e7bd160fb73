using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Harness;

/// <summary>What the fake reported to the Api for one answer, in the units a rate prices (speech: the characters it
/// was asked to speak, which OpenAI bills and does not report). The fake counts one token per word of text.</summary>
public sealed record FakeReport(string Operation, string Model)
{
    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int Images { get; init; }

    public long Characters { get; init; }

    /// <summary>Seconds of audio heard or of video made, as the answer stated them; null where it stated none.</summary>
    public decimal? Seconds { get; init; }
}

// OpenAI's wire for the other kinds of call, as the gateway's OpenAI adapters send and read it (Providers/OpenAI):
// embeddings, images (generations JSON, edits multipart), audio (speech bytes streamed; transcriptions and
// translations multipart), and the videos API (a job, its status, its content). Each answer is appended to Reports.
public sealed partial class FakeUpstream
{
    /// <summary>gpt-image-1's output tokens per image by quality, for a square image ("auto" is medium).</summary>
    private static readonly Dictionary<string, int> ImageOutputTokens = new(StringComparer.Ordinal) { ["low"] = 272, ["medium"] = 1056, ["high"] = 4160, ["auto"] = 1056 };

    /// <summary>The tokens one input image of an edit costs (the fake's figure).</summary>
    public const int EditImageTokens = 194;

    private static readonly string[] SoraSeconds = ["4", "8", "12"];

    private readonly ConcurrentDictionary<string, FakeVideo> _videos = new();

    /// <summary>Every non-chat answer's reported units, in order (chat's are the constants above).</summary>
    public ConcurrentQueue<FakeReport> Reports { get; } = new();

    private void MapMedia(WebApplication app)
    {
        app.MapPost("/v1/embeddings", EmbeddingsAsync);
        app.MapPost("/v1/images/generations", ImageGenerationsAsync);
        app.MapPost("/v1/images/edits", ImageEditsAsync);
        app.MapPost("/v1/audio/speech", SpeechAsync);
        app.MapPost("/v1/audio/transcriptions", context => TranscriptionAsync(context, "transcribe"));
        app.MapPost("/v1/audio/translations", context => TranscriptionAsync(context, "translate"));
        app.MapPost("/v1/videos", CreateVideoAsync);
        app.MapGet("/v1/videos/{id}", RetrieveVideoAsync);
        app.MapGet("/v1/videos/{id}/content", VideoContentAsync);
    }

    public static int Words(string? text) => text?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length ?? 0;

    private async Task EmbeddingsAsync(HttpContext context)
    {
        if (await JsonBodyAsync(context) is not { } body)
        {
            return;
        }
        var model = (string?)body["model"];
        List<string> inputs = body["input"] switch
        {
            JsonArray a => [.. a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : "")],
            JsonValue v when v.TryGetValue<string>(out var s) => [s],
            _ => [],
        };
        if (model is null || inputs.Count == 0)
        {
            await ErrorAsync(context, 400, "'model' and 'input' are required.", model is null ? "model" : "input");
            return;
        }
        var dimensions = (int?)body["dimensions"] ?? 8;
        var base64 = (string?)body["encoding_format"] == "base64";
        var data = new JsonArray();
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = Enumerable.Range(0, dimensions).Select(d => (float)Math.Round(Math.Sin(i + d + inputs[i].Length), 4)).ToArray();
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())) : new JsonArray(vector.Select(f => (JsonNode?)f).ToArray()),
            });
        }
        var tokens = inputs.Sum(Words);
        Reports.Enqueue(new FakeReport("embeddings", model) { PromptTokens = tokens });
        await JsonAsync(context, new JsonObject
        {
            ["object"] = "list", ["data"] = data, ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        });
    }

    private async Task ImageGenerationsAsync(HttpContext context)
    {
        if (await JsonBodyAsync(context) is not { } body)
        {
            return;
        }
        var model = (string?)body["model"] ?? "dall-e-2";
        var prompt = (string?)body["prompt"];
        if (prompt is null)
        {
            await ErrorAsync(context, 400, "'prompt' is required.", "prompt");
            return;
        }
        if (model.StartsWith("gpt-image", StringComparison.Ordinal) && body["response_format"] is not null)
        {
            await ErrorAsync(context, 400, "Unknown parameter: 'response_format'.", "response_format");
            return;
        }
        await ImagesAnswerAsync(context, "images/generations", model, prompt, (int?)body["n"] ?? 1, (string?)body["size"], (string?)body["quality"],
            (string?)body["response_format"], inputImages: 0);
    }

    private async Task ImageEditsAsync(HttpContext context)
    {
        if (await FormBodyAsync(context) is not { } form)
        {
            return;
        }
        var images = form.Files.Where(f => f.Name is "image" or "image[]").ToList();
        if (images.Count == 0 || form["prompt"].Count == 0)
        {
            await ErrorAsync(context, 400, "'image' and 'prompt' are required.", images.Count == 0 ? "image" : "prompt");
            return;
        }
        foreach (var file in images.Concat(form.Files.Where(f => f.Name == "mask")))
        {
            if (MediaFiles.PngSize(await BytesAsync(file, context.RequestAborted)) is null)
            {
                await ErrorAsync(context, 400, $"Invalid image file '{file.FileName}': the fake takes PNG.", file.Name);
                return;
            }
        }
        var model = form["model"].Count > 0 ? form["model"].ToString() : "dall-e-2";
        var n = int.TryParse(form["n"], NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 1;
        await ImagesAnswerAsync(context, "images/edits", model, form["prompt"].ToString(), n, form["size"].Count > 0 ? form["size"].ToString() : null,
            form["quality"].Count > 0 ? form["quality"].ToString() : null, form["response_format"].Count > 0 ? form["response_format"].ToString() : null,
            images.Count);
    }

    /// <summary>n small PNGs; gpt-image-* as base64 with its token usage (text and image input, output by quality),
    /// DALL·E as it was asked (a URL unless b64_json) and without usage.</summary>
    private async Task ImagesAnswerAsync(HttpContext context, string operation, string model, string prompt, int n, string? size, string? quality,
        string? responseFormat, int inputImages)
    {
        var gptImage = model.StartsWith("gpt-image", StringComparison.Ordinal);
        var png = Convert.ToBase64String(MediaFiles.Png(16, 16));
        var answer = new JsonObject
        {
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["data"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode?)(gptImage || responseFormat == "b64_json"
                ? new JsonObject { ["b64_json"] = png }
                : new JsonObject { ["url"] = $"https://images.fake.local/{Guid.NewGuid():N}.png" })).ToArray()),
        };
        var report = new FakeReport(operation, model) { Images = n };
        if (gptImage)
        {
            var text = Words(prompt);
            var imageTokens = inputImages * EditImageTokens;
            var output = n * ImageOutputTokens.GetValueOrDefault(quality ?? "auto", ImageOutputTokens["auto"]);
            answer["background"] = "opaque";
            answer["output_format"] = "png";
            answer["quality"] = quality ?? "medium";
            answer["size"] = size ?? "1024x1024";
            answer["usage"] = new JsonObject
            {
                ["total_tokens"] = text + imageTokens + output,
                ["input_tokens"] = text + imageTokens,
                ["output_tokens"] = output,
                ["input_tokens_details"] = new JsonObject { ["text_tokens"] = text, ["image_tokens"] = imageTokens },
            };
            report = report with { PromptTokens = text + imageTokens, CompletionTokens = output };
        }
        Reports.Enqueue(report);
        await JsonAsync(context, answer);
    }

    /// <summary>Speech as OpenAI streams it: the audio's bytes as they are made (here a WAV of a tone, 60 ms per
    /// character, or its bare 24 kHz PCM samples), in 4 KiB writes, each flushed.</summary>
    private async Task SpeechAsync(HttpContext context)
    {
        if (await JsonBodyAsync(context) is not { } body)
        {
            return;
        }
        var model = (string?)body["model"];
        var input = (string?)body["input"];
        if (model is null || string.IsNullOrEmpty(input) || (string?)body["voice"] is null)
        {
            await ErrorAsync(context, 400, "'model', 'input' and 'voice' are required.", model is null ? "model" : input is null ? "input" : "voice");
            return;
        }
        var format = (string?)body["response_format"] ?? "mp3";
        if (format is not ("wav" or "pcm"))
        {
            await ErrorAsync(context, 400, $"The fake speaks wav and pcm, not {format}.", "response_format");
            return;
        }
        var characters = input.EnumerateRunes().LongCount();
        var wav = MediaFiles.Wav(Math.Min(30, characters * 0.06), 24_000);
        var audio = format == "wav" ? wav : wav[44..];
        Reports.Enqueue(new FakeReport("audio/speech", model) { Characters = characters });
        context.Response.ContentType = format == "wav" ? "audio/wav" : "audio/pcm";
        await context.Response.StartAsync(context.RequestAborted);
        for (var sent = 0; sent < audio.Length; sent += 4096)
        {
            await context.Response.Body.WriteAsync(audio.AsMemory(sent, Math.Min(4096, audio.Length - sent)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>whisper-1: the transcript of a WAV (what it hears is its length); <c>json</c> with
    /// <c>usage.seconds</c> (whole seconds, rounded up, as whisper-1 bills), <c>verbose_json</c> with the exact
    /// <c>duration</c>, <c>text</c>/<c>srt</c>/<c>vtt</c> with no duration at all.</summary>
    private async Task TranscriptionAsync(HttpContext context, string task)
    {
        if (await FormBodyAsync(context) is not { } form)
        {
            return;
        }
        var model = form["model"].ToString();
        if (form.Files.GetFile("file") is not { } file || model.Length == 0)
        {
            await ErrorAsync(context, 400, "'model' and 'file' are required.", model.Length == 0 ? "model" : "file");
            return;
        }
        if (MediaFiles.WavSeconds(await BytesAsync(file, context.RequestAborted)) is not { } heard)
        {
            await ErrorAsync(context, 400, $"Invalid file format '{file.FileName}': the fake hears WAV.", "file");
            return;
        }
        var duration = (decimal)Math.Round(heard, 3);
        var text = string.Create(CultureInfo.InvariantCulture, $"{duration:0.###} seconds of a 440 Hz tone.");
        var operation = task == "translate" ? "audio/translations" : "audio/transcriptions";
        var format = form["response_format"].Count > 0 ? form["response_format"].ToString() : "json";
        switch (format)
        {
            case "json":
                var seconds = Math.Ceiling(duration);
                Reports.Enqueue(new FakeReport(operation, model) { Seconds = seconds });
                await JsonAsync(context, new JsonObject { ["text"] = text, ["usage"] = new JsonObject { ["type"] = "duration", ["seconds"] = seconds } });
                break;
            case "verbose_json":
                Reports.Enqueue(new FakeReport(operation, model) { Seconds = duration });
                await JsonAsync(context, new JsonObject
                {
                    ["task"] = task, ["language"] = "english", ["duration"] = duration, ["text"] = text,
                    ["segments"] = new JsonArray(new JsonObject
                    {
                        ["id"] = 0, ["seek"] = 0, ["start"] = 0.0, ["end"] = duration, ["text"] = text, ["tokens"] = new JsonArray(50364, 440),
                        ["temperature"] = 0.0, ["avg_logprob"] = -0.2, ["compression_ratio"] = 1.0, ["no_speech_prob"] = 0.1,
                    }),
                });
                break;
            case "text" or "srt" or "vtt":
                Reports.Enqueue(new FakeReport(operation, model));
                var end = TimeSpan.FromSeconds((double)duration);
                context.Response.ContentType = format == "vtt" ? "text/vtt; charset=utf-8" : "text/plain; charset=utf-8";
                await context.Response.WriteAsync(format switch
                {
                    "srt" => $"1\n00:00:00,000 --> {end:hh\\:mm\\:ss\\,fff}\n{text}\n",
                    "vtt" => $"WEBVTT\n\n00:00:00.000 --> {end:hh\\:mm\\:ss\\.fff}\n{text}\n",
                    _ => text,
                }, context.RequestAborted);
                break;
            default:
                await ErrorAsync(context, 400, $"Invalid response_format '{format}'.", "response_format");
                break;
        }
    }

    /// <summary>Sora's create, JSON (as the gateway sends it) or multipart (as OpenAI's SDKs do): a queued job of
    /// <c>seconds</c> (a string: 4, 8 or 12; default 4).</summary>
    private async Task CreateVideoAsync(HttpContext context)
    {
        string? model, prompt, seconds, size;
        if (context.Request.HasFormContentType)
        {
            if (await FormBodyAsync(context) is not { } form)
            {
                return;
            }
            string? Field(string name) => form[name].Count > 0 ? form[name].ToString() : null;
            (model, prompt, seconds, size) = (Field("model"), Field("prompt"), Field("seconds"), Field("size"));
        }
        else if (await JsonBodyAsync(context) is { } body)
        {
            if (body["seconds"] is JsonValue s && !s.TryGetValue<string>(out _))
            {
                await ErrorAsync(context, 400, "Invalid type for 'seconds': expected one of '4', '8', '12'.", "seconds");
                return;
            }
            (model, prompt, seconds, size) = ((string?)body["model"], (string?)body["prompt"], (string?)body["seconds"], (string?)body["size"]);
        }
        else
        {
            return;
        }
        if (string.IsNullOrEmpty(prompt))
        {
            await ErrorAsync(context, 400, "'prompt' is required.", "prompt");
            return;
        }
        if (seconds is not null && !SoraSeconds.Contains(seconds))
        {
            await ErrorAsync(context, 400, $"Invalid value: '{seconds}'. Supported values are: '4', '8', and '12'.", "seconds");
            return;
        }
        var video = new FakeVideo($"video_{Guid.NewGuid():N}", model ?? "sora-2", seconds ?? "4", size ?? "720x1280", DateTimeOffset.UtcNow);
        _videos[video.Id] = video;
        await JsonAsync(context, video.Json("queued"));
    }

    /// <summary>A job's status: in progress at its first poll, completed from its second (reported once, then).</summary>
    private async Task RetrieveVideoAsync(HttpContext context, string id)
    {
        if (await FindVideoAsync(context, id) is not { } video)
        {
            return;
        }
        var polls = Interlocked.Increment(ref video.Polls);
        if (polls == 2)
        {
            Reports.Enqueue(new FakeReport("videos", video.Model) { Seconds = decimal.Parse(video.Seconds, CultureInfo.InvariantCulture) });
        }
        await JsonAsync(context, video.Json(polls >= 2 ? "completed" : "in_progress"));
    }

    private async Task VideoContentAsync(HttpContext context, string id)
    {
        if (await FindVideoAsync(context, id) is not { } video)
        {
            return;
        }
        if (Volatile.Read(ref video.Polls) < 2)
        {
            await ErrorAsync(context, 400, $"Video '{id}' is not completed yet.", null);
            return;
        }
        context.Response.ContentType = "video/mp4";
        await context.Response.Body.WriteAsync(MediaFiles.Mp4($"fake-video:{id}:{video.Seconds}s"), context.RequestAborted);
    }

    private sealed class FakeVideo(string id, string model, string seconds, string size, DateTimeOffset createdAt)
    {
        public int Polls;

        public string Id { get; } = id;

        public string Model { get; } = model;

        public string Seconds { get; } = seconds;

        public JsonObject Json(string status)
        {
            var video = new JsonObject
            {
                ["id"] = Id, ["object"] = "video", ["model"] = Model, ["status"] = status,
                ["progress"] = status switch { "completed" => 100, "in_progress" => 50, _ => 0 },
                ["created_at"] = createdAt.ToUnixTimeSeconds(), ["size"] = size, ["seconds"] = Seconds,
            };
            if (status == "completed")
            {
                video["completed_at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                video["expires_at"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
            }
            return video;
        }
    }

    /// <summary>The job of an authorized request, or null once an error has been answered.</summary>
    private async Task<FakeVideo?> FindVideoAsync(HttpContext context, string id)
    {
        if (!await AuthorizedAsync(context))
        {
            return null;
        }
        if (_videos.TryGetValue(id, out var video))
        {
            return video;
        }
        await ErrorAsync(context, 404, $"Video with id '{id}' not found.", null);
        return null;
    }

    /// <summary>The multipart form of an authorized request, or null once an error has been answered.</summary>
    private static async Task<IFormCollection?> FormBodyAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context))
        {
            return null;
        }
        if (context.Request.HasFormContentType)
        {
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        await ErrorAsync(context, 400, $"{context.Request.Path} takes multipart/form-data.", null);
        return null;
    }

    /// <summary>The JSON body of an authorized request, or null once an error has been answered.</summary>
    private static async Task<JsonObject?> JsonBodyAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context))
        {
            return null;
        }
        try
        {
            if (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) is JsonObject body)
            {
                return body;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // answered below
        }
        await ErrorAsync(context, 400, "We could not parse the JSON body of your request.", null);
        return null;
    }

    private static async Task<bool> AuthorizedAsync(HttpContext context)
    {
        if (context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return true;
        }
        await ErrorAsync(context, 401, "You didn't provide an API key.", null);
        return false;
    }

    private static async Task<byte[]> BytesAsync(IFormFile file, CancellationToken ct)
    {
        using var copy = new MemoryStream();
        await file.CopyToAsync(copy, ct);
        return copy.ToArray();
    }

    private static Task JsonAsync(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message, string? param)
    {
        context.Response.StatusCode = status;
        return JsonAsync(context, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param, ["code"] = status == 401 ? "invalid_api_key" : null,
            },
        });
    }
}
