using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AigneHub.Bench;

/// <summary>
/// The floor: the least a .NET forwarder can do. It copies the caller's body to the provider over one pooled
/// <see cref="SocketsHttpHandler"/> and streams the answer back (status, content type, each read flushed) — no auth,
/// no record, no parsing. Run as its own process (<c>AigneHub.Bench floor &lt;upstream&gt; &lt;port&gt;</c>) so its
/// CPU and memory are its own, like the Api's.
/// </summary>
internal static class Floor
{
    public static async Task<int> RunAsync(Uri upstream, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Limits.MaxConcurrentConnections = null).UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ActivityHeadersPropagator = null,
        });
        app.MapGet("/health", () => "ok");
        app.MapPost("/v1/chat/completions", async context =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(upstream, "/v1/chat/completions"))
            {
                Content = new StreamContent(context.Request.Body),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
            // HttpMessageInvoker never buffers the answer: the headers come back as soon as they arrive.
            using var response = await invoker.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>Starts the floor as a process of its own and waits until it answers.</summary>
    public static async Task<(Process Process, Uri BaseUrl)> StartAsync(string tempRoot, Uri upstreamRoot)
    {
        var port = PostgresServer.FreePort();
        var dll = typeof(Floor).Assembly.Location;
        var process = Processes.Start("dotnet", [dll, "floor", upstreamRoot.ToString(), port.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" }, Path.Combine(tempRoot, "floor.log"));
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(5) };
        await Wait.UntilAsync(TimeSpan.FromSeconds(30), async () => (await client.GetAsync("/health")).IsSuccessStatusCode, "the floor to answer");
        return (process, baseUrl);
    }
}
