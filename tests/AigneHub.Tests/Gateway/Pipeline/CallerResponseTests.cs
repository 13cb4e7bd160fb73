using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Gateway.Pipeline;

/// <summary>The one writer of what a caller receives: event framing, the commit point, a caller that left.</summary>
public sealed class CallerResponseTests
{
    /// <summary>What the JSON result writer resolves from the request: logging and the HTTP JSON options.</summary>
    private static readonly IServiceProvider Services = new ServiceCollection().AddLogging().AddOptions().BuildServiceProvider();

    [Fact]
    public async Task Data_of_several_lines_is_sent_as_several_data_lines()
    {
        var (context, body) = Context();
        var caller = new CallerResponse(context);

        await caller.WriteEventAsync("first\nsecond\r\nthird\rfourth");
        await caller.WriteEventAsync("[DONE]");
        await caller.WriteEventAsync(new JsonObject { ["message"] = "a\nb" }, eventName: "error");

        // The SSE specification: each line a data field, the reader joins them with "\n"; JSON escapes its own.
        Assert.Equal("data: first\ndata: second\ndata: third\ndata: fourth\n\ndata: [DONE]\n\nevent: error\ndata: {\"message\":\"a\\nb\"}\n\n",
            Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal("text/event-stream; charset=utf-8", context.Response.ContentType);
    }

    [Fact]
    public async Task The_first_write_commits_the_call_and_stamps_the_first_byte()
    {
        var (context, _) = Context();
        var caller = new CallerResponse(context);
        Assert.False(caller.Committed);
        Assert.Null(caller.FirstByteAt);

        await caller.StartEventsAsync();

        Assert.True(caller.Committed);
        var first = Assert.NotNull(caller.FirstByteAt);
        await caller.WriteEventAsync("later");
        Assert.Equal(first, caller.FirstByteAt);
        Assert.False(caller.Gone);
    }

    [Fact]
    public async Task A_caller_that_left_marks_the_response_gone_instead_of_throwing()
    {
        foreach (var write in new Func<CallerResponse, Task>[]
        {
            c => c.WriteJsonAsync(new JsonObject { ["text"] = "an answer nobody reads" }),
            c => c.WriteJsonAsync("{\"raw\":true}"u8.ToArray()),
            c => c.WriteEventAsync("data"),
        })
        {
            var context = new DefaultHttpContext { RequestServices = Services };
            context.Response.Body = new GoneStream();
            var caller = new CallerResponse(context);

            await write(caller);
            await caller.WriteEventAsync("more");

            Assert.True(caller.Gone);
            Assert.True(caller.Committed);
        }
    }

    private static (DefaultHttpContext Context, MemoryStream Body) Context()
    {
        var body = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = Services };
        context.Response.Body = body;
        return (context, body);
    }

    /// <summary>A connection the caller has closed: every write fails as Kestrel's does.</summary>
    private sealed class GoneStream : MemoryStream
    {
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => throw new IOException("The caller left.");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("The caller left.");

        public override Task FlushAsync(CancellationToken cancellationToken) => throw new IOException("The caller left.");
    }
}
