using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake Ideogram API on real Kestrel: <c>POST /v1/ideogram-v3/generate</c> as a multipart form (prompt,
/// num_images, aspect_ratio, rendering_speed, style_type, …), the key in the <c>Api-Key</c> header (anything else is
/// its 401), answered as Ideogram 3.0 answers: <c>{created: date-time, data:[{url, prompt, resolution, seed,
/// is_image_safe, style_type}]}</c> with ephemeral image URLs on the fake itself (<c>GET /images/{name}</c>, no key
/// needed, as Ideogram's signed links). More than 8 images, a prompt missing or an aspect ratio it does not define is
/// its 400.
/// </summary>
public sealed class FakeIdeogram : FakeProvider
{
    /// <summary>Ideogram 3.0's aspect ratios.</summary>
    public static readonly string[] AspectRatios = ["1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10", "2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1"];

    private FakeIdeogram(FakeProviderHost host) : base(host)
    {
    }

    public required string ApiKey { get; init; }

    /// <summary>How Ideogram's MagicPrompt rewrites a prompt (the answer's <c>prompt</c>).</summary>
    public static string Rewritten(string prompt) => $"{prompt}, highly detailed";

    /// <summary>The bytes behind the fake's image URL <paramref name="name"/>.</summary>
    public static byte[] ImageBytes(string name) => Encoding.UTF8.GetBytes($"ideogram-{name}");

    public static async Task<FakeIdeogram> StartAsync(string apiKey)
    {
        FakeIdeogram? fake = null;
        var host = await FakeProviderHost.StartAsync("", (routes, h) =>
        {
            routes.MapPost("/v1/ideogram-v3/generate", context => fake!.GenerateAsync(context));
            routes.MapGet("/images/{name}", (HttpContext context, string name) => Results.Bytes(ImageBytes(name), "image/png"));
        });
        fake = new FakeIdeogram(host) { ApiKey = apiKey };
        return fake;
    }

    private async Task GenerateAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType || !context.Request.ContentType!.StartsWith("multipart/form-data", StringComparison.Ordinal))
        {
            await Host.RecordAsync(context);
            await ErrorAsync(context, 400, "The request must be multipart/form-data.");
            return;
        }
        var recorded = await Host.RecordFormAsync(context);
        var form = recorded.RequiredBody;
        var reply = Host.NextReply();
        if (recorded.Header("Api-Key") != ApiKey)
        {
            await ErrorAsync(context, 401, "Not authorized to generate an image.");
            return;
        }
        if (reply.FailStatus is int status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await ErrorAsync(context, status, reply.FailMessage ?? $"fake failure {status}");
            return;
        }
        var prompt = (string?)form["prompt"];
        var count = int.Parse((string?)form["num_images"] ?? "1", CultureInfo.InvariantCulture);
        var ratio = (string?)form["aspect_ratio"] ?? "1x1";
        if (string.IsNullOrEmpty(prompt) || count is < 1 or > 8 || !AspectRatios.Contains(ratio))
        {
            await ErrorAsync(context, 400, "Invalid input provided.");
            return;
        }
        var origin = $"{context.Request.Scheme}://{context.Request.Host}";
        var id = Guid.NewGuid().ToString("N")[..8];
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["created"] = "2025-08-27T10:23:28.806107+00:00",
            ["data"] = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject
            {
                ["url"] = $"{origin}/images/{id}-{i}.png",
                ["prompt"] = Rewritten(prompt),
                ["resolution"] = "1024x1024",
                ["seed"] = 12345 + i,
                ["is_image_safe"] = true,
                ["style_type"] = (string?)form["style_type"] ?? "GENERAL",
            })]),
        });
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        FakeProviderHost.WriteJsonAsync(context, status, new JsonObject { ["detail"] = message });
}
