using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AigneHub.Tests.Infrastructure;

/// <summary>The service defaults' resilience handler (every Admin → Api client) retries only safe methods: a
/// retried POST could grant credits or create a key twice.</summary>
public sealed class ServiceDefaultsRetryTests
{
    [Fact]
    public async Task A_failing_post_is_sent_once_while_a_failing_get_is_retried()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        await using var server = builder.Build();
        var posts = 0;
        var gets = 0;
        server.MapPost("/", () => { Interlocked.Increment(ref posts); return Results.StatusCode(503); });
        server.MapGet("/", () => { Interlocked.Increment(ref gets); return Results.StatusCode(503); });
        await server.StartAsync();
        var url = new Uri(server.Urls.First());

        var clientHost = Host.CreateApplicationBuilder();
        clientHost.AddServiceDefaults();
        using var built = clientHost.Build();
        using var client = built.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var post = await client.PostAsync(url, new StringContent("{}"));
        using var get = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        Assert.Equal(1, posts);
        Assert.True(gets > 1, $"a GET is retried ({gets} request(s))");
    }
}
