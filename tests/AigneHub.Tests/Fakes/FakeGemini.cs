using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake Gemini API (<c>/v1beta/models/{model}:generateContent</c>, <c>:streamGenerateContent?alt=sse</c>,
/// <c>:batchEmbedContents</c>, Imagen's <c>:predict</c>, and image <c>generateContent</c> when
/// <c>generationConfig.responseModalities</c> asks for <c>IMAGE</c>; speech when it asks for <c>AUDIO</c> of a TTS
/// model, answered as base64 PCM <see cref="SpeechPcm"/>; a transcript, the reply's text, for a turn with audio
/// <c>inlineData</c>) on real Kestrel. Answers with the scripted <see cref="FakeReply"/>s, errors in
/// Google's own shape, and, like Gemini, answers a wrong <c>x-goog-api-key</c> with 400 "API key not valid".
/// </summary>
public sealed class FakeGemini : FakeProvider
{
    private int _responseCount;

    private FakeGemini(FakeProviderHost host) : base(host)
    {
    }

    /// <summary>When set, requests without this <c>x-goog-api-key</c> get Gemini's 400 "API key not valid".</summary>
    public string? ApiKey { get; set; }

    public static async Task<FakeGemini> StartAsync()
    {
        FakeGemini? fake = null;
        var host = await FakeProviderHost.StartAsync("v1beta/", (routes, h) =>
        {
            routes.MapPost("/v1beta/models/{*target}", (HttpContext context, string target) => fake!.HandleAsync(context, target));
            routes.MapGet("/v1beta/models/{model}/operations/{id}", (HttpContext context, string model, string id) => fake!.OperationAsync(context, model, id));
            routes.MapGet("/v1beta/files/{file}", (HttpContext context, string file) => fake!.FileAsync(context, file));
        });
        fake = new FakeGemini(host);
        return fake;
    }

    private async Task HandleAsync(HttpContext context, string target)
    {
        var request = await Host.RecordAsync(context);
        var reply = Host.NextReply();
        if (reply.DelayBeforeHeaders > TimeSpan.Zero)
        {
            await Task.Delay(reply.DelayBeforeHeaders, context.RequestAborted);
        }

        if (ApiKey is not null && request.Header("x-goog-api-key") != ApiKey)
        {
            await WriteErrorAsync(context, 400, "API key not valid. Please pass a valid API key.");
            return;
        }
        if (reply.FailStatus is { } status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage ?? $"fake failure {status}", reply.FailDetails);
            return;
        }
        var separator = target.LastIndexOf(':');
        if (separator < 0 || request.Body is not JsonObject body)
        {
            await WriteErrorAsync(context, 404, $"Unknown route models/{target}");
            return;
        }
        var model = target[..separator];
        switch (target[(separator + 1)..])
        {
            case "generateContent" when body["contents"] is JsonArray && Asks(body, "AUDIO"):
                await SpeechAsync(context, model, body, reply);
                break;
            case "generateContent" when body["contents"] is JsonArray contents && AudioInput(contents) is { } audio:
                await TranscriptAsync(context, model, audio, reply);
                break;
            case "generateContent" when body["contents"] is JsonArray && Asks(body, "IMAGE"):
                await FakeProviderHost.WriteJsonAsync(context, 200, ImageAnswer(model, reply));
                break;
            case "predict" when body["instances"] is JsonArray { Count: 1 }:
                await PredictAsync(context, body);
                break;
            case "generateContent" when body["contents"] is JsonArray:
                await FakeProviderHost.WriteJsonAsync(context, 200, Chunk(model, NextId(), reply, reply.Text, withCalls: true, finish: true));
                break;
            case "streamGenerateContent" when body["contents"] is JsonArray && context.Request.Query["alt"] == "sse":
                await FakeProviderHost.StreamAsync(context, reply, StreamChunks(model, NextId(), reply),
                    new SseEvent(null, ErrorBody(500, "An internal error has occurred.")));
                break;
            case "batchEmbedContents" when body["requests"] is JsonArray requests:
                await EmbedAsync(context, model, requests);
                break;
            case "predictLongRunning" when body["instances"] is JsonArray { Count: 1 }:
                await PredictLongRunningAsync(context, model, body);
                break;
            default:
                await WriteErrorAsync(context, 400, $"Invalid request for models/{target}");
                break;
        }
    }

    /// <summary>The bytes of the fake's image number <paramref name="index"/> from <paramref name="source"/>
    /// (<c>imagen</c> or <c>gemini</c>), so a test can tell which images reached the caller.</summary>
    public static byte[] ImageBytes(string source, int index) => System.Text.Encoding.UTF8.GetBytes($"{source}-image-{index}");

    private static bool Asks(JsonObject body, string modality) =>
        body["generationConfig"]?["responseModalities"] is JsonArray modalities && modalities.Any(m => (string?)m == modality);

    /// <summary>The PCM the fake speaks for <paramref name="text"/>: 480 bytes (10 ms at 24 kHz) a character, so a test
    /// knows its length from its input.</summary>
    public static byte[] SpeechPcm(string text) => [.. Enumerable.Range(0, text.Length * 480).Select(i => (byte)(i * 7 + text[i / 480]))];

    /// <summary>A TTS model's answer (only <c>*-tts*</c> models speak, as on Gemini): the text part's speech as one
    /// <c>inlineData</c> part of <c>audio/L16;codec=pcm;rate=24000</c> — the reply's <see cref="FakeReply.Audio"/>,
    /// else <see cref="SpeechPcm"/> of the text sent.</summary>
    private static Task SpeechAsync(HttpContext context, string model, JsonObject body, FakeReply reply)
    {
        var text = (string?)body["contents"]?[0]?["parts"]?[0]?["text"];
        var voice = (string?)body["generationConfig"]?["speechConfig"]?["voiceConfig"]?["prebuiltVoiceConfig"]?["voiceName"];
        if (!model.Contains("-tts", StringComparison.Ordinal) || string.IsNullOrEmpty(text) || string.IsNullOrEmpty(voice))
        {
            return WriteErrorAsync(context, 400, $"models/{model}: the AUDIO modality needs a TTS model, a text part and a prebuilt voice.");
        }
        var pcm = reply.Audio ?? SpeechPcm(text);
        return FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["candidates"] = new JsonArray(new JsonObject
            {
                ["content"] = new JsonObject
                {
                    ["role"] = "model",
                    ["parts"] = new JsonArray(new JsonObject
                    {
                        ["inlineData"] = new JsonObject { ["mimeType"] = "audio/L16;codec=pcm;rate=24000", ["data"] = Convert.ToBase64String(pcm) },
                    }),
                },
                ["finishReason"] = "STOP",
                ["index"] = 0,
            }),
            ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = reply.InputTokens, ["candidatesTokenCount"] = reply.OutputTokens, ["totalTokenCount"] = reply.InputTokens + reply.OutputTokens },
            ["modelVersion"] = model,
        });
    }

    /// <summary>The first audio <c>inlineData</c> part of the turns, if any.</summary>
    private static JsonObject? AudioInput(JsonArray contents) =>
        contents.SelectMany(c => c?["parts"] as JsonArray ?? []).Select(p => p?["inlineData"] as JsonObject)
            .FirstOrDefault(d => ((string?)d?["mimeType"])?.StartsWith("audio/", StringComparison.Ordinal) == true);

    /// <summary>Audio understanding: the reply's text as the transcript (a 400 for data that is not base64), and usage.</summary>
    private static Task TranscriptAsync(HttpContext context, string model, JsonObject audio, FakeReply reply)
    {
        try
        {
            _ = Convert.FromBase64String((string?)audio["data"] ?? "");
        }
        catch (FormatException)
        {
            return WriteErrorAsync(context, 400, "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed.");
        }
        return FakeProviderHost.WriteJsonAsync(context, 200, Chunk(model, "gemini_fake_transcript", reply, reply.Text, withCalls: false, finish: true));
    }

    /// <summary>Imagen's answer: <c>predictions[]</c> of <c>{bytesBase64Encoded, mimeType}</c>, <c>sampleCount</c> of
    /// them (Imagen's default is 4; more than 4 is its 400).</summary>
    private static Task PredictAsync(HttpContext context, JsonObject body)
    {
        var count = (int?)body["parameters"]?["sampleCount"] ?? 4;
        if (count is < 1 or > 4 || string.IsNullOrEmpty((string?)body["instances"]![0]?["prompt"]))
        {
            return WriteErrorAsync(context, 400, "instances[0].prompt is required and sampleCount must be between 1 and 4.");
        }
        var predictions = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject
        {
            ["bytesBase64Encoded"] = Convert.ToBase64String(ImageBytes("imagen", i)),
            ["mimeType"] = "image/png",
        })]);
        return FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject { ["predictions"] = predictions });
    }

    /// <summary>A Gemini image model's answer: a text part, then one image as <c>inlineData</c> (JPEG, as Gemini
    /// image models send), and the usage: the reply's input tokens as the prompt, its output tokens as the image's.</summary>
    private static JsonObject ImageAnswer(string model, FakeReply reply) => new()
    {
        ["candidates"] = new JsonArray(new JsonObject
        {
            ["content"] = new JsonObject
            {
                ["role"] = "model",
                ["parts"] = new JsonArray(
                    new JsonObject { ["text"] = "Here is the image." },
                    new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = "image/jpeg", ["data"] = Convert.ToBase64String(ImageBytes("gemini", 0)) } }),
            },
            ["finishReason"] = "STOP",
            ["index"] = 0,
        }),
        ["usageMetadata"] = new JsonObject
        {
            ["promptTokenCount"] = reply.InputTokens,
            ["candidatesTokenCount"] = reply.OutputTokens,
            ["totalTokenCount"] = reply.InputTokens + reply.OutputTokens,
        },
        ["modelVersion"] = model,
    };

    /// <summary>The Veo operations (<c>predictLongRunning</c>).</summary>
    public FakeVideoJobs Videos { get; } = new();

    private async Task PredictLongRunningAsync(HttpContext context, string model, JsonObject body)
    {
        if ((string?)body["instances"]![0]?["prompt"] is null)
        {
            await WriteErrorAsync(context, 400, "instances[0].prompt is required");
            return;
        }
        var job = Videos.Start("", body["parameters"]?["durationSeconds"]?.ToJsonString(), (string?)body["parameters"]?["aspectRatio"]);
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject { ["name"] = $"models/{model}/operations/{job.Id}" });
    }

    private async Task OperationAsync(HttpContext context, string model, string id)
    {
        if (ApiKey is not null && context.Request.Headers["x-goog-api-key"] != ApiKey)
        {
            await WriteErrorAsync(context, 400, "API key not valid. Please pass a valid API key.");
            return;
        }
        if (Videos.Find(id) is not { } job)
        {
            await WriteErrorAsync(context, 404, $"Operation models/{model}/operations/{id} not found.");
            return;
        }
        var name = $"models/{model}/operations/{id}";
        if (!job.PollDone())
        {
            await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject { ["name"] = name });
            return;
        }
        var operation = new JsonObject { ["name"] = name, ["done"] = true };
        if (job.FailMessage is not null)
        {
            operation["error"] = new JsonObject { ["code"] = 3, ["message"] = job.FailMessage };
        }
        else
        {
            var origin = $"{context.Request.Scheme}://{context.Request.Host}";
            operation["response"] = new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                ["generateVideoResponse"] = new JsonObject
                {
                    ["generatedSamples"] = new JsonArray(new JsonObject
                    {
                        ["video"] = new JsonObject { ["uri"] = $"{origin}/v1beta/files/{id}:download?alt=media" },
                    }),
                },
            };
        }
        await FakeProviderHost.WriteJsonAsync(context, 200, operation);
    }

    /// <summary>A generated video (<c>files/{id}:download?alt=media</c>), only with the key when one is set.</summary>
    private async Task FileAsync(HttpContext context, string file)
    {
        var id = file.EndsWith(":download", StringComparison.Ordinal) ? file[..^":download".Length] : file;
        if ((ApiKey is not null && context.Request.Headers["x-goog-api-key"] != ApiKey) || Videos.Find(id) is not { } job)
        {
            await WriteErrorAsync(context, 403, "The caller does not have permission");
            return;
        }
        context.Response.ContentType = "video/mp4";
        await context.Response.Body.WriteAsync(job.Content(), context.RequestAborted);
    }

    private string NextId() => $"gemini_fake_{Interlocked.Increment(ref _responseCount)}";

    private static List<SseEvent> StreamChunks(string model, string id, FakeReply reply)
    {
        var events = reply.StreamChunks().Select(chunk => new SseEvent(null, Chunk(model, id, reply, chunk, withCalls: false, finish: false))).ToList();
        if (reply.ToolCalls.Count > 0)
        {
            events.Add(new SseEvent(null, Chunk(model, id, reply, "", withCalls: true, finish: false)));
        }
        events.Add(new SseEvent(null, Chunk(model, id, reply, "", withCalls: false, finish: true)));
        return events;
    }

    private static JsonObject Chunk(string model, string id, FakeReply reply, string text, bool withCalls, bool finish)
    {
        var parts = new JsonArray();
        if (text.Length > 0 || (finish && !withCalls))
        {
            parts.Add(new JsonObject { ["text"] = text });
        }
        if (withCalls)
        {
            foreach (var call in reply.ToolCalls)
            {
                var functionCall = new JsonObject { ["name"] = call.Name, ["args"] = JsonNode.Parse(call.ArgumentsJson) };
                if (call.Id is not null)
                {
                    functionCall["id"] = call.Id;
                }
                parts.Add(new JsonObject { ["functionCall"] = functionCall });
            }
        }
        var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" }, ["index"] = 0 };
        if (finish)
        {
            candidate["finishReason"] = reply.FinishReason ?? "STOP";
        }
        var usage = new JsonObject { ["promptTokenCount"] = reply.InputTokens };
        if (finish)
        {
            usage["candidatesTokenCount"] = reply.OutputTokens;
            if (reply.ReasoningTokens > 0)
            {
                usage["thoughtsTokenCount"] = reply.ReasoningTokens;
            }
            if (reply.CacheReadInputTokens > 0)
            {
                usage["cachedContentTokenCount"] = reply.CacheReadInputTokens;
            }
        }
        usage["totalTokenCount"] = reply.InputTokens + (finish ? reply.OutputTokens + reply.ReasoningTokens : 0);
        return new JsonObject
        {
            ["candidates"] = new JsonArray(candidate),
            ["usageMetadata"] = usage,
            ["modelVersion"] = model,
            ["responseId"] = id,
        };
    }

    private static Task EmbedAsync(HttpContext context, string model, JsonArray requests)
    {
        var embeddings = new JsonArray();
        foreach (var item in requests)
        {
            if ((string?)item?["model"] != $"models/{model}")
            {
                return WriteErrorAsync(context, 400, $"Model in request ({(string?)item?["model"]}) does not match models/{model}.");
            }
            var text = string.Concat((item!["content"]?["parts"] as JsonArray ?? []).Select(p => (string?)p?["text"]));
            var dimensions = (int?)item["outputDimensionality"] ?? 8;
            embeddings.Add(new JsonObject { ["values"] = new JsonArray([.. FakeVector(text, dimensions).Select(v => JsonValue.Create(v))]) });
        }
        return FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject { ["embeddings"] = embeddings });
    }

    /// <summary>A deterministic vector for a text, so tests can tell inputs' embeddings apart and in order.</summary>
    public static float[] FakeVector(string text, int dimensions)
    {
        var seed = text.Aggregate(17, (h, c) => unchecked((h * 31) + c));
        return [.. Enumerable.Range(0, dimensions).Select(i => (((seed & 0x7fffffff) + (i * 7919L)) % 1000) / 1000f)];
    }

    private static JsonObject ErrorBody(int status, string message) => new()
    {
        ["error"] = new JsonObject
        {
            ["code"] = status,
            ["message"] = message,
            ["status"] = status switch
            {
                400 => "INVALID_ARGUMENT",
                401 => "UNAUTHENTICATED",
                403 => "PERMISSION_DENIED",
                404 => "NOT_FOUND",
                429 => "RESOURCE_EXHAUSTED",
                503 => "UNAVAILABLE",
                _ => "INTERNAL",
            },
        },
    };

    private static Task WriteErrorAsync(HttpContext context, int status, string message, JsonArray? details = null)
    {
        var body = ErrorBody(status, message);
        if (details is not null)
        {
            body["error"]!["details"] = details.DeepClone();
        }
        return FakeProviderHost.WriteJsonAsync(context, status, body);
    }
}
