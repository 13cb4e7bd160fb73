using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake OpenAI-compatible provider on <see cref="FakeProviderHost"/>: chat completions (JSON and SSE with
/// <c>[DONE]</c>, usage when <c>stream_options.include_usage</c> asks for it), the Responses API (a response object,
/// or named events ending in <c>response.completed</c> with the usage; a reasoning item with encrypted content when
/// <c>include</c> asks for it), embeddings and image generations, with OpenAI's own error JSON. Base URL ends in <c>/v1/</c>.
/// Started with a <see cref="FakeOpenAiDialect"/> it speaks a compatible provider's variant instead (see there).
/// </summary>
public sealed class FakeOpenAI : FakeProvider
{
    private readonly FakeOpenAiDialect _dialect;

    private FakeOpenAI(FakeProviderHost host, FakeOpenAiDialect dialect) : base(host) => _dialect = dialect;

    /// <summary>Fields Mistral's API refuses with a 422 <c>extra_forbidden</c> (it validates bodies strictly).</summary>
    public static readonly string[] MistralForbiddenFields = ["stream_options", "max_completion_tokens", "seed", "user"];

    public static async Task<FakeOpenAI> StartAsync(FakeOpenAiDialect dialect = FakeOpenAiDialect.OpenAI)
    {
        FakeOpenAI? fake = null;
        var host = await FakeProviderHost.StartAsync(dialect switch { FakeOpenAiDialect.Azure => "", FakeOpenAiDialect.Ark => "api/v3/", _ => "v1/" }, (routes, h) =>
        {
            if (dialect == FakeOpenAiDialect.Ark)
            {
                routes.MapPost("/api/v3/chat/completions", context => fake!.ChatAsync(context));
                routes.MapPost("/api/v3/images/generations", context => fake!.ArkImagesAsync(context));
                return;
            }
            if (dialect == FakeOpenAiDialect.Azure)
            {
                routes.MapPost("/openai/deployments/{deployment}/chat/completions", context => fake!.ChatAsync(context));
                routes.MapPost("/openai/deployments/{deployment}/embeddings", context => fake!.EmbeddingsAsync(context));
                routes.MapPost("/openai/deployments/{deployment}/images/generations", context => fake!.ImagesAsync(context));
                routes.MapPost("/openai/deployments/{deployment}/audio/speech", context => fake!.SpeechAsync(context));
                routes.MapPost("/openai/deployments/{deployment}/audio/transcriptions", context => fake!.TranscriptionAsync(context));
                routes.MapPost("/openai/deployments/{deployment}/audio/translations", context => fake!.TranscriptionAsync(context));
                return;
            }
            routes.MapPost("/v1/chat/completions", context => fake!.ChatAsync(context));
            routes.MapPost("/v1/responses", context => fake!.ResponsesAsync(context));
            routes.MapPost("/v1/embeddings", context => fake!.EmbeddingsAsync(context));
            routes.MapPost("/v1/images/generations", context => fake!.ImagesAsync(context));
            routes.MapPost("/v1/images/edits", context => fake!.ImageEditsAsync(context));
            routes.MapPost("/v1/audio/speech", context => fake!.SpeechAsync(context));
            routes.MapPost("/v1/audio/transcriptions", context => fake!.TranscriptionAsync(context));
            routes.MapPost("/v1/audio/translations", context => fake!.TranscriptionAsync(context));
            routes.MapGet("/v1/models", context => fake!.ModelsAsync(context));
            routes.MapPost("/v1/videos", context => fake!.CreateVideoAsync(context));
            routes.MapGet("/v1/videos/{id}", (HttpContext context, string id) => fake!.RetrieveVideoAsync(context, id));
            routes.MapGet("/v1/videos/{id}/content", (HttpContext context, string id) => fake!.VideoContentAsync(context, id));
        });
        fake = new FakeOpenAI(host, dialect);
        return fake;
    }

    /// <summary>The dialect's refusal of a request its real API refuses, or null: Azure wants the key in <c>api-key</c>
    /// and an <c>api-version</c>; Mistral refuses fields it does not define.</summary>
    private async Task<bool> RefusedByDialectAsync(HttpContext context, RecordedRequest request)
    {
        if (_dialect == FakeOpenAiDialect.Azure)
        {
            if (request.Header("api-key") is null || request.Header("Authorization") is not null)
            {
                await FakeProviderHost.WriteJsonAsync(context, 401, new JsonObject
                {
                    ["error"] = new JsonObject { ["code"] = "401", ["message"] = "Access denied due to invalid subscription key or wrong API endpoint." },
                });
                return true;
            }
            if (!context.Request.Query.ContainsKey("api-version"))
            {
                await FakeProviderHost.WriteJsonAsync(context, 404, new JsonObject { ["error"] = new JsonObject { ["code"] = "404", ["message"] = "Resource not found" } });
                return true;
            }
        }
        if (_dialect == FakeOpenAiDialect.Mistral && request.Body is JsonObject body && MistralForbiddenFields.FirstOrDefault(body.ContainsKey) is { } field)
        {
            // Mistral's real 422: the message is an object (pydantic's detail list), not a string.
            await FakeProviderHost.WriteJsonAsync(context, 422, new JsonObject
            {
                ["object"] = "error",
                ["message"] = new JsonObject
                {
                    ["detail"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "extra_forbidden", ["loc"] = new JsonArray("body", field), ["msg"] = "Extra inputs are not permitted",
                    }),
                },
                ["type"] = "invalid_request_error",
                ["param"] = null,
                ["code"] = null,
            });
            return true;
        }
        return false;
    }

    /// <summary>What <c>GET /v1/models</c> lists.</summary>
    public IReadOnlyList<string> ListedModels { get; set; } = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"];

    private async Task ModelsAsync(HttpContext context)
    {
        await Host.RecordAsync(context);
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. ListedModels.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["object"] = "model", ["owned_by"] = "fake" })]),
        });
    }

    private async Task ChatAsync(HttpContext context)
    {
        var recorded = await Host.RecordAsync(context);
        var body = recorded.RequiredBody;
        var reply = Host.NextReply();
        await Task.Delay(reply.DelayBeforeHeaders);
        await reply.Hold;
        if (await RefusedByDialectAsync(context, recorded))
        {
            return;
        }
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        if (await FakeProviderHost.WriteMalformedAsync(context, reply))
        {
            return;
        }
        var model = (string?)body["model"] ?? "fake";
        var id = $"chatcmpl-fake-{Guid.NewGuid():N}";
        var usage = new JsonObject
        {
            ["prompt_tokens"] = reply.InputTokens,
            ["completion_tokens"] = reply.OutputTokens,
            ["total_tokens"] = reply.InputTokens + reply.OutputTokens,
        };
        if (reply.DeepSeekCacheFields)
        {
            // DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens, no prompt_tokens_details.
            usage["prompt_cache_hit_tokens"] = reply.CacheReadInputTokens;
            usage["prompt_cache_miss_tokens"] = reply.InputTokens - reply.CacheReadInputTokens;
        }
        else
        {
            usage["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = reply.CacheReadInputTokens };
        }
        var finish = reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_calls" : "stop");

        if (body["stream"]?.GetValue<bool>() != true)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.ToolCalls.Count > 0 && reply.Text.Length == 0 ? null : reply.Text };
            if (reply.ToolCalls.Count > 0)
            {
                message["tool_calls"] = new JsonArray(reply.ToolCalls.Select((c, i) => (JsonNode?)new JsonObject
                {
                    ["id"] = c.Id ?? $"call_{i}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
                }).ToArray());
            }
            await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = 1700000000, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
                ["usage"] = usage,
                ["extra_provider_field"] = "kept",
            });
            return;
        }

        JsonObject Chunk(JsonObject delta, string? finishReason) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
        };
        var events = new List<SseEvent>();
        var chunks = reply.Text.Length == 0 ? [] : reply.StreamChunks();
        for (var i = 0; i < chunks.Count; i++)
        {
            var delta = new JsonObject { ["content"] = chunks[i] };
            if (i == 0)
            {
                delta["role"] = "assistant";
            }
            events.Add(new SseEvent(null, Chunk(delta, null)));
        }
        for (var t = 0; t < reply.ToolCalls.Count; t++)
        {
            var c = reply.ToolCalls[t];
            var half = c.ArgumentsJson.Length / 2;
            events.Add(new SseEvent(null, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = t, ["id"] = c.Id ?? $"call_{t}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson[..half] } }) }, null)));
            events.Add(new SseEvent(null, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = t, ["function"] = new JsonObject { ["arguments"] = c.ArgumentsJson[half..] } }) }, null)));
        }
        var last = Chunk(new JsonObject(), finish);
        switch (_dialect)
        {
            case FakeOpenAiDialect.Mistral:
                last["usage"] = usage; // always, on the last chunk
                break;
            case FakeOpenAiDialect.Groq:
                last["x_groq"] = new JsonObject { ["id"] = "req_fake", ["usage"] = usage };
                break;
        }
        events.Add(new SseEvent(null, last));
        if ((_dialect is FakeOpenAiDialect.OpenAI or FakeOpenAiDialect.Azure) && body["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            events.Add(new SseEvent(null, new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage }));
        }
        events.Add(new SseEvent(null, null, "[DONE]"));
        await FakeProviderHost.StreamAsync(context, reply, events,
            new SseEvent(null, new JsonObject { ["error"] = new JsonObject { ["message"] = reply.FailMessage ?? "The server had an error while processing your request.", ["type"] = "server_error" } }));
    }

    /// <summary>The encrypted reasoning the fake hands out and expects back (only OpenAI can read it).</summary>
    public const string EncryptedReasoning = "gAAAAB-fake-encrypted-reasoning";

    private async Task ResponsesAsync(HttpContext context)
    {
        var body = (await Host.RecordAsync(context)).RequiredBody;
        var reply = Host.NextReply();
        await Task.Delay(reply.DelayBeforeHeaders);
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var model = (string?)body["model"] ?? "fake";
        var id = $"resp_fake_{Guid.NewGuid():N}";
        var usage = new JsonObject
        {
            ["input_tokens"] = reply.InputTokens,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = reply.CacheReadInputTokens },
            ["output_tokens"] = reply.OutputTokens,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = reply.ReasoningTokens },
            ["total_tokens"] = reply.InputTokens + reply.OutputTokens,
        };
        var wantsReasoning = body["include"] is JsonArray include && include.Any(i => (string?)i == "reasoning.encrypted_content");
        var items = new List<JsonObject>();
        if (wantsReasoning)
        {
            items.Add(new JsonObject
            {
                ["id"] = $"rs_fake_{Guid.NewGuid():N}", ["type"] = "reasoning", ["summary"] = new JsonArray(), ["encrypted_content"] = EncryptedReasoning,
            });
        }
        var messageId = $"msg_fake_{Guid.NewGuid():N}";
        if (reply.Text.Length > 0)
        {
            items.Add(new JsonObject
            {
                ["id"] = messageId, ["type"] = "message", ["status"] = "completed", ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = reply.Text, ["annotations"] = new JsonArray() }),
            });
        }
        for (var t = 0; t < reply.ToolCalls.Count; t++)
        {
            var c = reply.ToolCalls[t];
            items.Add(new JsonObject
            {
                ["id"] = $"fc_fake_{t}", ["type"] = "function_call", ["status"] = "completed", ["call_id"] = c.Id ?? $"call_{t}", ["name"] = c.Name, ["arguments"] = c.ArgumentsJson,
            });
        }
        JsonObject Response(string state, bool final) => new()
        {
            ["id"] = id, ["object"] = "response", ["created_at"] = 1700000000, ["status"] = state, ["model"] = model,
            ["output"] = final ? new JsonArray(items.Select(i => (JsonNode?)i.DeepClone()).ToArray()) : new JsonArray(),
            ["usage"] = final ? usage.DeepClone() : null,
            ["store"] = body["store"]?.DeepClone() ?? true,
            ["extra_provider_field"] = "kept",
        };

        if (body["stream"]?.GetValue<bool>() != true)
        {
            await FakeProviderHost.WriteJsonAsync(context, 200, Response("completed", final: true));
            return;
        }

        var events = new List<SseEvent>();
        void Add(string type, JsonObject data)
        {
            data["type"] = type;
            data["sequence_number"] = events.Count;
            events.Add(new SseEvent(type, data));
        }
        Add("response.created", new JsonObject { ["response"] = Response("in_progress", final: false) });
        Add("response.in_progress", new JsonObject { ["response"] = Response("in_progress", final: false) });
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var added = (JsonObject)item.DeepClone();
            if ((string?)item["type"] == "message")
            {
                added["content"] = new JsonArray();
                Add("response.output_item.added", new JsonObject { ["output_index"] = i, ["item"] = added });
                Add("response.content_part.added", new JsonObject { ["item_id"] = messageId, ["output_index"] = i, ["content_index"] = 0, ["part"] = new JsonObject { ["type"] = "output_text", ["text"] = "" } });
                foreach (var chunk in reply.StreamChunks())
                {
                    Add("response.output_text.delta", new JsonObject { ["item_id"] = messageId, ["output_index"] = i, ["content_index"] = 0, ["delta"] = chunk });
                }
                Add("response.output_text.done", new JsonObject { ["item_id"] = messageId, ["output_index"] = i, ["content_index"] = 0, ["text"] = reply.Text });
            }
            else
            {
                Add("response.output_item.added", new JsonObject { ["output_index"] = i, ["item"] = added });
            }
            Add("response.output_item.done", new JsonObject { ["output_index"] = i, ["item"] = item.DeepClone() });
        }
        Add("response.completed", new JsonObject { ["response"] = Response("completed", final: true) });
        var failed = Response("failed", final: false);
        failed["error"] = new JsonObject { ["code"] = "server_error", ["message"] = reply.FailMessage ?? "The server had an error while processing your request." };
        await FakeProviderHost.StreamAsync(context, reply, events,
            new SseEvent("response.failed", new JsonObject { ["type"] = "response.failed", ["response"] = failed }));
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var recorded = await Host.RecordAsync(context);
        var body = recorded.RequiredBody;
        var reply = Host.NextReply();
        if (await RefusedByDialectAsync(context, recorded))
        {
            return;
        }
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var inputs = body["input"] is JsonArray a ? a.Select(x => (string)x!).ToList() : [(string)body["input"]!];
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(inputs.Select((text, i) => (JsonNode?)new JsonObject
            {
                ["object"] = "embedding", ["index"] = i, ["embedding"] = new JsonArray(text.Length, 0.5, -0.25),
            }).ToArray()),
            ["model"] = (string?)body["model"],
            ["usage"] = new JsonObject { ["prompt_tokens"] = reply.InputTokens, ["total_tokens"] = reply.InputTokens },
        });
    }

    private async Task ImagesAsync(HttpContext context)
    {
        var recorded = await Host.RecordAsync(context);
        var body = recorded.RequiredBody;
        var reply = Host.NextReply();
        if (await RefusedByDialectAsync(context, recorded))
        {
            return;
        }
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var n = (int?)body["n"] ?? 1;
        var b64 = (string?)body["response_format"] == "b64_json";
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["created"] = 1700000000,
            ["data"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode?)(b64
                ? new JsonObject { ["b64_json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"png-{i}")) }
                : new JsonObject { ["url"] = $"https://images.example/{i}.png" })).ToArray()),
        });
    }

    /// <summary>Fields Ark's <c>images/generations</c> refuses (Seedream takes no <c>n</c>, <c>quality</c> or <c>style</c>).</summary>
    public static readonly string[] ArkRefusedImageFields = ["n", "quality", "style"];

    /// <summary>Ark's Seedream: <c>sequential_image_generation: "auto"</c> with <c>max_images</c> for a group, else one
    /// image; each entry with its <c>size</c>; usage as <c>{generated_images, output_tokens, total_tokens}</c>
    /// (<see cref="ArkTokensPerImage"/> output tokens an image); refused fields are Ark's 400 <c>InvalidParameter</c>.</summary>
    private async Task ArkImagesAsync(HttpContext context)
    {
        var recorded = await Host.RecordAsync(context);
        var body = recorded.RequiredBody.AsObject();
        var reply = Host.NextReply();
        if (recorded.Header("Authorization") is not { } auth || !auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            await ArkErrorAsync(context, 401, "AuthenticationError", "The API key in the request is missing or invalid.");
            return;
        }
        if (ArkRefusedImageFields.FirstOrDefault(body.ContainsKey) is { } field)
        {
            await ArkErrorAsync(context, 400, "InvalidParameter", $"The parameter `{field}` specified in the request is not valid.");
            return;
        }
        if (reply.FailStatus is int status)
        {
            await ArkErrorAsync(context, status, "InternalServiceError", reply.FailMessage ?? $"fake failure {status}");
            return;
        }
        var count = (string?)body["sequential_image_generation"] == "auto" ? (int?)body["sequential_image_generation_options"]?["max_images"] ?? 15 : 1;
        var b64 = (string?)body["response_format"] == "b64_json";
        var size = (string?)body["size"] is { } s && s.Contains('x', StringComparison.Ordinal) ? s : "2048x2048";
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["model"] = (string?)body["model"],
            ["created"] = 1757323224,
            ["data"] = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)(b64
                ? new JsonObject { ["b64_json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"seedream-{i}")), ["size"] = size }
                : new JsonObject { ["url"] = $"https://ark-images.example/seedream-{i}.jpeg", ["size"] = size }))]),
            ["usage"] = new JsonObject { ["generated_images"] = count, ["output_tokens"] = count * ArkTokensPerImage, ["total_tokens"] = count * ArkTokensPerImage },
        });
    }

    /// <summary>The output tokens the fake Ark reports per image (Seedream's count for a 2048 × 2048 image).</summary>
    public const int ArkTokensPerImage = 16384;

    private static Task ArkErrorAsync(HttpContext context, int status, string code, string message) =>
        FakeProviderHost.WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["param"] = "", ["type"] = "BadRequest" },
        });

    private async Task ImageEditsAsync(HttpContext context)
    {
        var recorded = await Host.RecordFormAsync(context);
        var form = recorded.RequiredBody;
        var reply = Host.NextReply();
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        if (form["image"] is null && form["image[]"] is null || (string?)form["prompt"] is null)
        {
            await WriteErrorAsync(context, 400, "image and prompt are required");
            return;
        }
        var n = int.Parse((string?)form["n"] ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var b64 = (string?)form["response_format"] == "b64_json" || ((string?)form["model"])?.StartsWith("gpt-image", StringComparison.Ordinal) == true;
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["created"] = 1700000000,
            ["data"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode?)(b64
                ? new JsonObject { ["b64_json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"edited-{i}")) }
                : new JsonObject { ["url"] = $"https://images.example/edited-{i}.png" })).ToArray()),
        });
    }

    /// <summary>The video jobs of OpenAI's videos API (Sora).</summary>
    public FakeVideoJobs Videos { get; } = new();

    private async Task CreateVideoAsync(HttpContext context)
    {
        var recorded = await Host.RecordAsync(context);
        if (recorded.Body is not JsonObject body || (string?)body["prompt"] is null)
        {
            await WriteErrorAsync(context, 400, "prompt is required");
            return;
        }
        var reply = Host.NextReply();
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var job = Videos.Start("video_fake_", (string?)body["seconds"], (string?)body["size"]);
        await FakeProviderHost.WriteJsonAsync(context, 200, VideoObject(job, (string?)body["model"] ?? "sora-2", "queued"));
    }

    private async Task RetrieveVideoAsync(HttpContext context, string id)
    {
        if (Videos.Find(id) is not { } job)
        {
            await WriteErrorAsync(context, 404, $"Video with id '{id}' not found.");
            return;
        }
        var status = !job.PollDone() ? "in_progress" : job.FailMessage is null ? "completed" : "failed";
        await FakeProviderHost.WriteJsonAsync(context, 200, VideoObject(job, "sora-2", status));
    }

    private async Task VideoContentAsync(HttpContext context, string id)
    {
        if (Videos.Find(id) is not { } job || job.FailMessage is not null)
        {
            await WriteErrorAsync(context, 404, $"Video with id '{id}' not found.");
            return;
        }
        context.Response.ContentType = "video/mp4";
        await context.Response.Body.WriteAsync(job.Content(), context.RequestAborted);
    }

    /// <summary>OpenAI's video job object (seconds and size are strings on its wire; sora-2 makes 4 s by default).</summary>
    private static JsonObject VideoObject(FakeVideoJob job, string model, string status)
    {
        var video = new JsonObject
        {
            ["id"] = job.Id,
            ["object"] = "video",
            ["model"] = model,
            ["status"] = status,
            ["progress"] = status == "completed" ? 100 : Math.Min(99, job.Polls * 25),
            ["created_at"] = 1712697600,
            ["size"] = job.Size ?? "720x1280",
            ["seconds"] = job.Seconds ?? job.RequestedSeconds ?? "4",
        };
        if (status == "failed")
        {
            video["error"] = new JsonObject { ["code"] = "moderation_blocked", ["message"] = job.FailMessage };
        }
        return video;
    }

    /// <summary>The bytes the fake speaks for <paramref name="input"/> when the reply scripts none.</summary>
    public static byte[] SpeechFor(string input) => Encoding.UTF8.GetBytes($"fake-audio:{input}");

    private async Task SpeechAsync(HttpContext context)
    {
        var recorded = await Host.RecordAsync(context);
        var body = recorded.RequiredBody;
        var reply = Host.NextReply();
        if (await RefusedByDialectAsync(context, recorded))
        {
            return;
        }
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var audio = reply.Audio ?? SpeechFor((string?)body["input"] ?? "");
        context.Response.ContentType = ((string?)body["response_format"] ?? "mp3") switch
        {
            "wav" => "audio/wav",
            "opus" => "audio/opus",
            "flac" => "audio/flac",
            "aac" => "audio/aac",
            "pcm" => "audio/pcm",
            _ => "audio/mpeg",
        };
        await context.Response.StartAsync(context.RequestAborted);
        for (int i = 0, sent = 0; sent < audio.Length; i++, sent += reply.AudioChunkBytes)
        {
            if (reply.CutAfterEvents == i)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), context.RequestAborted);
                context.Abort();
                return;
            }
            if (i > 0 && reply.DelayBetweenEvents > TimeSpan.Zero)
            {
                await Task.Delay(reply.DelayBetweenEvents, context.RequestAborted);
            }
            await context.Response.Body.WriteAsync(audio.AsMemory(sent, Math.Min(reply.AudioChunkBytes, audio.Length - sent)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
        reply.LastEventSent.TrySetResult();
    }

    /// <summary>A canonical WAV's duration (a 44-byte header: byte rate at 28, the data after it), read the fake's own way.</summary>
    private static double WavSeconds(byte[] wav) => (wav.Length - 44) / (double)BitConverter.ToInt32(wav, 28);

    private async Task TranscriptionAsync(HttpContext context)
    {
        var recorded = await Host.RecordFormAsync(context);
        var form = recorded.RequiredBody;
        var reply = Host.NextReply();
        if (await RefusedByDialectAsync(context, recorded))
        {
            return;
        }
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        if (recorded.File is not { } file || (string?)form["model"] is null)
        {
            await WriteErrorAsync(context, 400, "model and file are required");
            return;
        }
        var text = reply.Text;
        switch ((string?)form["response_format"] ?? "json")
        {
            case "text":
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync(text, context.RequestAborted);
                break;
            case "srt":
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync($"1\n00:00:00,000 --> 00:00:01,000\n{text}\n", context.RequestAborted);
                break;
            case "vtt":
                context.Response.ContentType = "text/vtt; charset=utf-8";
                await context.Response.WriteAsync($"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n{text}\n", context.RequestAborted);
                break;
            case "verbose_json":
                await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
                {
                    ["task"] = context.Request.Path.Value!.EndsWith("translations", StringComparison.Ordinal) ? "translate" : "transcribe",
                    ["language"] = "english",
                    ["duration"] = reply.ReportedSeconds ?? WavSeconds(file),
                    ["text"] = text,
                    ["segments"] = new JsonArray(new JsonObject
                    {
                        ["id"] = 0, ["seek"] = 0, ["start"] = 0.0, ["end"] = 1.0, ["text"] = text, ["tokens"] = new JsonArray(1, 2),
                        ["temperature"] = 0.0, ["avg_logprob"] = -0.1, ["compression_ratio"] = 1.0, ["no_speech_prob"] = 0.01,
                    }),
                });
                break;
            default:
                var answer = new JsonObject { ["text"] = text };
                if (reply.ReportedSeconds is double seconds)
                {
                    answer["usage"] = new JsonObject { ["type"] = "duration", ["seconds"] = seconds };
                }
                await FakeProviderHost.WriteJsonAsync(context, 200, answer);
                break;
        }
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string? message)
    {
        var (type, text) = status switch
        {
            401 => ("invalid_request_error", "Incorrect API key provided."),
            429 => ("rate_limit_error", "Rate limit reached for requests."),
            404 => ("invalid_request_error", "The model does not exist."),
            400 => ("invalid_request_error", "Invalid parameter."),
            _ => ("server_error", "The server had an error while processing your request."),
        };
        return FakeProviderHost.WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message ?? text, ["type"] = type, ["param"] = null, ["code"] = null },
        });
    }
}

/// <summary>
/// Which member of the OpenAI-compatible family a <see cref="FakeOpenAI"/> plays. <see cref="Mistral"/>: refuses
/// <see cref="FakeOpenAI.MistralForbiddenFields"/> with its 422 (a message object, not a string) and puts the usage on
/// the last chunk of every stream; <see cref="Groq"/>: a stream's usage under <c>x_groq.usage</c> on its last chunk,
/// whatever <c>stream_options</c> says; <see cref="Azure"/>: deployment URLs at the root
/// (<c>/openai/deployments/{deployment}/chat/completions</c>), the key in <c>api-key</c>, <c>api-version</c> required;
/// <see cref="Ark"/>: Volcengine Ark under <c>/api/v3/</c>, chat as OpenAI's, Seedream's <c>images/generations</c>.
/// </summary>
public enum FakeOpenAiDialect
{
    OpenAI,
    Mistral,
    Groq,
    Azure,
    Ark,
}
