using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake Amazon Bedrock runtime on <see cref="FakeProviderHost"/>: <c>POST /model/{modelId}/converse</c> (JSON) and
/// <c>/converse-stream</c> (the AWS event-stream binary framing, written here by hand: prelude, CRC32s, string
/// headers). Every request's SigV4 signature is checked with <see cref="SigV4Verifier"/> against the fake's one
/// known key pair (a wrong one is Bedrock's 403); <see cref="Signatures"/> keeps what each request claimed.
/// Usage is reported Bedrock's way: <c>inputTokens</c> excludes the cache reads and writes.
/// </summary>
public sealed class FakeBedrock : FakeProvider
{
    public const string AccessKeyId = "AKIDFAKEBEDROCK00001";
    public const string SecretAccessKey = "fake/Bedrock+Secret0123456789abcdefghijkl";

    private readonly List<SigV4Claim> _signatures = [];

    private FakeBedrock(FakeProviderHost host) : base(host)
    {
    }

    /// <summary>The signature claim of every request that carried a valid one, in order.</summary>
    public IReadOnlyList<SigV4Claim> Signatures
    {
        get
        {
            lock (_signatures)
            {
                return [.. _signatures];
            }
        }
    }

    /// <summary>Requests refused for their signature.</summary>
    public int Refused { get; private set; }

    public static async Task<FakeBedrock> StartAsync()
    {
        FakeBedrock? fake = null;
        var host = await FakeProviderHost.StartAsync("", (routes, _) =>
        {
            routes.MapPost("/model/{modelId}/converse", context => fake!.ConverseAsync(context, stream: false));
            routes.MapPost("/model/{modelId}/converse-stream", context => fake!.ConverseAsync(context, stream: true));
        });
        fake = new FakeBedrock(host);
        return fake;
    }

    private async Task ConverseAsync(HttpContext context, bool stream)
    {
        var recorded = await Host.RecordAsync(context);
        var reply = Host.NextReply();
        if (Verify(context, recorded) is { } problem)
        {
            Refused++;
            await WriteErrorAsync(context, 403, "UnrecognizedClientException", problem);
            return;
        }
        if (reply.FailStatus is int status)
        {
            await WriteErrorAsync(context, status, status == 429 ? "ThrottlingException" : status >= 500 ? "InternalServerException" : "ValidationException",
                reply.FailMessage ?? "The fake failed as scripted.");
            return;
        }
        var usage = new JsonObject
        {
            ["inputTokens"] = reply.InputTokens,
            ["outputTokens"] = reply.OutputTokens,
            ["totalTokens"] = reply.InputTokens + reply.OutputTokens + reply.CacheReadInputTokens + reply.CacheCreationInputTokens,
            ["cacheReadInputTokens"] = reply.CacheReadInputTokens,
            ["cacheWriteInputTokens"] = reply.CacheCreationInputTokens,
        };
        var stop = reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_use" : "end_turn");
        if (!stream)
        {
            var content = new JsonArray();
            if (reply.Text.Length > 0)
            {
                content.Add(new JsonObject { ["text"] = reply.Text });
            }
            foreach (var (call, i) in reply.ToolCalls.Select((c, i) => (c, i)))
            {
                content.Add(new JsonObject
                {
                    ["toolUse"] = new JsonObject { ["toolUseId"] = call.Id ?? $"tooluse_{i}", ["name"] = call.Name, ["input"] = JsonNode.Parse(call.ArgumentsJson) },
                });
            }
            await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
            {
                ["output"] = new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content } },
                ["stopReason"] = stop,
                ["usage"] = usage,
                ["metrics"] = new JsonObject { ["latencyMs"] = 12 },
            });
            return;
        }

        var events = new List<(string Type, JsonObject Payload)> { ("messageStart", new JsonObject { ["role"] = "assistant" }) };
        var block = 0;
        if (reply.Text.Length > 0)
        {
            events.AddRange(reply.StreamChunks().Select(chunk =>
                ("contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 0, ["delta"] = new JsonObject { ["text"] = chunk } })));
            events.Add(("contentBlockStop", new JsonObject { ["contentBlockIndex"] = 0 }));
            block = 1;
        }
        foreach (var (call, i) in reply.ToolCalls.Select((c, i) => (c, i)))
        {
            var index = block + i;
            var half = call.ArgumentsJson.Length / 2;
            events.Add(("contentBlockStart", new JsonObject
            {
                ["contentBlockIndex"] = index,
                ["start"] = new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = call.Id ?? $"tooluse_{i}", ["name"] = call.Name } },
            }));
            events.Add(("contentBlockDelta", new JsonObject { ["contentBlockIndex"] = index, ["delta"] = new JsonObject { ["toolUse"] = new JsonObject { ["input"] = call.ArgumentsJson[..half] } } }));
            events.Add(("contentBlockDelta", new JsonObject { ["contentBlockIndex"] = index, ["delta"] = new JsonObject { ["toolUse"] = new JsonObject { ["input"] = call.ArgumentsJson[half..] } } }));
            events.Add(("contentBlockStop", new JsonObject { ["contentBlockIndex"] = index }));
        }
        events.Add(("messageStop", new JsonObject { ["stopReason"] = stop }));
        events.Add(("metadata", new JsonObject { ["usage"] = usage, ["metrics"] = new JsonObject { ["latencyMs"] = 12 } }));

        context.Response.ContentType = "application/vnd.amazon.eventstream";
        await context.Response.StartAsync(context.RequestAborted);
        for (var i = 0; i < events.Count; i++)
        {
            if (reply.ErrorAfterEvents == i)
            {
                await WriteFrameAsync(context, [(":message-type", "exception"), (":exception-type", "modelStreamErrorException"), (":content-type", "application/json")],
                    new JsonObject { ["message"] = reply.FailMessage ?? "The model stream failed." });
                return;
            }
            if (i > 0 && reply.DelayBetweenEvents > TimeSpan.Zero)
            {
                await Task.Delay(reply.DelayBetweenEvents, context.RequestAborted);
            }
            await WriteFrameAsync(context, [(":message-type", "event"), (":event-type", events[i].Type), (":content-type", "application/json")], events[i].Payload);
        }
        reply.LastEventSent.TrySetResult();
    }

    /// <summary>Null when the request carries a valid signature of the fake's key, else why not.</summary>
    private string? Verify(HttpContext context, RecordedRequest request)
    {
        var claim = SigV4Verifier.ParseAuthorization(request.Header("Authorization"));
        if (claim is null)
        {
            return "Missing or malformed SigV4 Authorization header.";
        }
        if (claim.AccessKeyId != AccessKeyId)
        {
            return "The security token included in the request is invalid.";
        }
        if (claim.Service != "bedrock" || !claim.SignedHeaders.Contains("host") || !claim.SignedHeaders.Contains("x-amz-date"))
        {
            return "The credential scope or signed headers are wrong.";
        }
        var amzDate = request.Header("x-amz-date") ?? "";
        if (!amzDate.StartsWith(claim.Date, StringComparison.Ordinal))
        {
            return "x-amz-date does not match the credential scope's date.";
        }
        var payloadHash = SigV4Verifier.PayloadHash(Encoding.UTF8.GetBytes(request.RawBody));
        if (request.Header("x-amz-content-sha256") is { } claimed && claimed != payloadHash)
        {
            return "x-amz-content-sha256 does not match the body.";
        }
        var headers = claim.SignedHeaders.ToDictionary(h => h, h => request.Header(h) ?? "", StringComparer.Ordinal);
        var rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var query = q >= 0 ? rawTarget[q..] : "";
        var path = q >= 0 ? rawTarget[..q] : rawTarget;
        var canonical = SigV4Verifier.CanonicalRequest(request.Method, path, query, headers, payloadHash);
        var expected = SigV4Verifier.Signature(SecretAccessKey, amzDate, claim.Region, claim.Service, canonical);
        if (expected != claim.Signature)
        {
            return "The request signature we calculated does not match the signature you provided.";
        }
        lock (_signatures)
        {
            _signatures.Add(claim);
        }
        return null;
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.Headers["x-amzn-ErrorType"] = type;
        return FakeProviderHost.WriteJsonAsync(context, status, new JsonObject { ["message"] = message });
    }

    /// <summary>One event-stream message: total length, headers length, prelude CRC, headers, payload, message CRC.</summary>
    private static async Task WriteFrameAsync(HttpContext context, (string Name, string Value)[] headers, JsonObject payload)
    {
        using var headerBytes = new MemoryStream();
        foreach (var (name, value) in headers)
        {
            var n = Encoding.UTF8.GetBytes(name);
            var v = Encoding.UTF8.GetBytes(value);
            headerBytes.WriteByte((byte)n.Length);
            headerBytes.Write(n);
            headerBytes.WriteByte(7); // string
            var length = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)v.Length);
            headerBytes.Write(length);
            headerBytes.Write(v);
        }
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        var total = 12 + (int)headerBytes.Length + body.Length + 4;
        var frame = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(0), (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)headerBytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), Crc32(frame.AsSpan(0, 8)));
        headerBytes.ToArray().CopyTo(frame, 12);
        body.CopyTo(frame, 12 + (int)headerBytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(total - 4), Crc32(frame.AsSpan(0, total - 4)));
        await context.Response.Body.WriteAsync(frame, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as the event-stream framing uses.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }
}
