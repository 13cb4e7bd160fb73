using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// Issue 12 item 8: hostile input against every operation of the Api's own OpenAPI document (so a new route is
/// covered without editing this test), as owner, member and anonymous, a fixed number of seeded cases each: hostile
/// route values and query values, and bodies mutated by <see cref="JsonMutator"/> from a body built from the
/// operation's schema. No 5xx (no provider is configured, so none can be a provider's), no request unanswered
/// within its bound, the Api healthy afterwards. <see cref="ManagementBodyFuzzTests"/> goes deeper on management
/// bodies with real ids and <c>BadInputTests</c> on the caller protocols; this one is the breadth.
/// Then what Kestrel must refuse before any route runs: oversized headers (431) and a slow-loris body.
/// </summary>
public sealed partial class HostileInputTests
{
    private const int CasesPerOperationAndRole = 3;

    /// <summary>Route and query values no route expects.</summary>
    private static readonly string[] HostileValues =
    [
        "00000000-0000-0000-0000-000000000000", "not-a-guid", "-1", "1e309", "%00", "..%2F..%2Fetc%2Fpasswd", "%FF%FE",
        new string('9', 4000), "true", "", "%7B%22a%22%3A1%7D", "2099-13-45T99:99:99Z",
    ];

    [Fact]
    public async Task No_operation_of_the_openapi_document_answers_hostile_input_with_a_5xx_or_a_hang()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        owner.Timeout = TimeSpan.FromSeconds(10);
        var (_, memberKey) = await owner.CreateMemberAsync();
        using var member = api.CreateClient(memberKey);
        member.Timeout = owner.Timeout;
        using var anonymous = api.CreateClient(bearer: null);
        anonymous.Timeout = owner.Timeout;

        var document = JsonNode.Parse(await owner.GetStringAsync("/openapi/v1.json"))!;
        var operations = Operations(document).ToList();
        Assert.Contains(operations, o => o.Path == "/api/v2/chat/completions" && o.Method == "POST");
        Assert.Contains(operations, o => o.Path.StartsWith("/api/admin/", StringComparison.Ordinal) && o.Method == "DELETE");

        var failures = new List<string>();
        var sent = 0;
        var random = new Random(12);
        foreach (var op in operations)
        {
            var mutator = new JsonMutator(seed: op.Path.Length * 7919 + op.Method.Length);
            foreach (var (role, client) in new[] { ("owner", owner), ("member", member), ("anonymous", anonymous) })
            {
                for (var i = 0; i < CasesPerOperationAndRole; i++)
                {
                    var path = RouteValue().Replace(op.Path, _ => HostileValues[random.Next(HostileValues.Length)]);
                    var query = string.Join('&', op.Query.Select(q => $"{q}={HostileValues[random.Next(HostileValues.Length)]}"));
                    using var request = new HttpRequestMessage(new HttpMethod(op.Method), query.Length == 0 ? path : $"{path}?{query}");
                    var description = $"{role} {op.Method} {request.RequestUri}";
                    if (op.Body is { } body)
                    {
                        var mutation = mutator.Next(body);
                        request.Content = new ByteArrayContent(mutation.Body);
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                        description += $" ({mutation.Description})";
                    }
                    sent++;
                    try
                    {
                        using var response = await client.SendAsync(request);
                        var text = await response.Content.ReadAsStringAsync();
                        if ((int)response.StatusCode >= 500)
                        {
                            failures.Add($"{description} → {(int)response.StatusCode}: {(text.Length > 200 ? text[..200] : text)}");
                        }
                    }
                    catch (TaskCanceledException)
                    {
                        failures.Add($"{description} → no answer within {owner.Timeout.TotalSeconds:0} s");
                    }
                }
            }
        }
        Assert.True(sent >= 600, $"only {sent} requests sent over {operations.Count} operations");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests:\n" + string.Join('\n', failures.Take(30)));

        // Healthy afterwards: health, a management read, and the member's own key.
        using (var health = await anonymous.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        using (var users = await owner.GetAsync("/api/admin/users"))
        {
            Assert.Equal(HttpStatusCode.OK, users.StatusCode);
        }
        using var me = await member.GetAsync("/api/v2/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Oversized_headers_are_refused_with_431_and_the_next_request_is_served()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var limit = api.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxRequestHeadersTotalSize;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/me");
        request.Headers.TryAddWithoutValidation("x-filler", new string('a', limit + 1));
        using var refused = await owner.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);
        using var served = await owner.GetAsync("/api/v2/me");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task A_slow_loris_body_is_cut_off_by_kestrels_minimum_data_rate()
    {
        await using var api = await ApiFactory.StartAsync();
        var limits = api.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        // The defaults that keep a slow client from holding a connection (and a request's resources) forever.
        Assert.NotNull(limits.MinRequestBodyDataRate);
        Assert.True(limits.RequestHeadersTimeout <= TimeSpan.FromSeconds(30), $"RequestHeadersTimeout {limits.RequestHeadersTimeout}");
        var rate = limits.MinRequestBodyDataRate!;

        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, owner.BaseAddress!.Port);
        var stream = tcp.GetStream();
        var head = $"POST /api/v2/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {ApiFactory.OwnerKey}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        // One byte every half second: far below the minimum rate once its grace period is over. The bound is the grace
        // plus a margin for a loaded machine; the server must end the request long before the body could ever arrive.
        var bound = rate.GracePeriod + TimeSpan.FromSeconds(20);
        using var timeout = new CancellationTokenSource(bound);
        var reading = ReadUntilClosedAsync(stream, timeout.Token);
        try
        {
            while (!reading.IsCompleted && !timeout.IsCancellationRequested)
            {
                await stream.WriteAsync("a"u8.ToArray(), timeout.Token);
                await Task.WhenAny(reading, Task.Delay(500, timeout.Token));
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            // the server closed the connection while we were still trickling
        }
        var answer = await reading;
        Assert.False(timeout.IsCancellationRequested && !reading.IsCompletedSuccessfully, $"the connection was still open after {bound.TotalSeconds:0} s");
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal) || answer.StartsWith("HTTP/1.1 400", StringComparison.Ordinal),
            $"answered: {answer}");
    }

    private static async Task<string> ReadUntilClosedAsync(NetworkStream stream, CancellationToken ct)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // reset by the server: closed
        }
        return text.ToString();
    }

    private sealed record Operation(string Method, string Path, IReadOnlyList<string> Query, string? Body);

    private static IEnumerable<Operation> Operations(JsonNode document)
    {
        var schemas = document["components"]?["schemas"]?.AsObject();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                if (method is not ("get" or "post" or "put" or "patch" or "delete"))
                {
                    continue;
                }
                var query = (op?["parameters"]?.AsArray() ?? []).Where(p => (string?)p?["in"] == "query").Select(p => (string)p!["name"]!).ToList();
                var schema = op?["requestBody"]?["content"]?["application/json"]?["schema"];
                yield return new Operation(method.ToUpperInvariant(), path, query, schema is null && method is "get" or "delete" ? null : SampleBody(schema, schemas));
            }
        }
    }

    /// <summary>An object with every property the schema names, each of its type, for the mutator to start from.</summary>
    private static string SampleBody(JsonNode? schema, JsonObject? schemas)
    {
        if (schema?["$ref"] is JsonValue reference && schemas is not null)
        {
            schema = schemas[((string)reference!).Split('/')[^1]];
        }
        var body = new JsonObject();
        foreach (var (name, property) in schema?["properties"]?.AsObject() ?? [])
        {
            var type = property?["type"] switch
            {
                JsonValue v => (string?)v,
                JsonArray a => a.Select(t => (string?)t).FirstOrDefault(t => t != "null"),
                _ => null,
            };
            body[name] = type switch
            {
                "integer" => 1,
                "number" => 1.5,
                "boolean" => true,
                "array" => new JsonArray(),
                "object" => new JsonObject(),
                _ => "x",
            };
        }
        return body.ToJsonString();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}]+\}")]
    private static partial System.Text.RegularExpressions.Regex RouteValue();
}
