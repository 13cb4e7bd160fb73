using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AigneHub.Admin.Api;

/// <summary>A failed Api call, carrying the Api's own message (the pages show it verbatim).</summary>
public sealed class ApiException(HttpStatusCode? status, string message, Exception? inner = null) : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// The one place that turns HTTP into results for the typed clients: success bodies deserialised with the
/// source-generated contract, failures into an <see cref="ApiException"/> whose message is the Api's
/// <c>error.message</c> (or the problem's detail/validation errors), and transport failures into a readable line.
/// </summary>
public static class ApiHttp
{
    public static async Task<T> GetAsync<T>(HttpClient http, string url, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        return await SendAsync(http, request, type, ct);
    }

    public static async Task<TResponse> SendJsonAsync<TRequest, TResponse>(HttpClient http, HttpMethod method, string url, TRequest body,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body, requestType) };
        return await SendAsync(http, request, responseType, ct);
    }

    public static async Task SendJsonAsync<TRequest>(HttpClient http, HttpMethod method, string url, TRequest body,
        JsonTypeInfo<TRequest> requestType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body, requestType) };
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, ct);
    }

    public static async Task SendAsync(HttpClient http, HttpMethod method, string url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url);
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, ct);
    }

    public static async Task<T> SendAsync<T>(HttpClient http, HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, ct);
        try
        {
            return await response.Content.ReadFromJsonAsync(type, ct)
                ?? throw new ApiException(response.StatusCode, $"The Api answered {request.Method} {request.RequestUri} with an empty body.");
        }
        catch (JsonException ex)
        {
            throw new ApiException(response.StatusCode, $"The Api's answer to {request.Method} {request.RequestUri} could not be read: {ex.Message}", ex);
        }
    }

    public static async Task<HttpResponseMessage> TrySendAsync(HttpClient http, HttpRequestMessage request, HttpCompletionOption completion,
        CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiException(null, $"The Api could not be reached ({ex.Message}).", ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(null, "The Api did not answer in time.", ex);
        }
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync(ct);
        throw new ApiException(response.StatusCode, ErrorMessage(response.StatusCode, body));
    }

    /// <summary>The human message inside an Api error body, whichever of its two shapes it has.</summary>
    public static string ErrorMessage(HttpStatusCode status, string? body)
    {
        var fallback = status switch
        {
            HttpStatusCode.Unauthorized => "Your session has expired or was revoked. Sign in again.",
            HttpStatusCode.Forbidden => "You are not authorized to do this.",
            HttpStatusCode.NotFound => "Not found.",
            _ => $"The Api answered {(int)status} {status}.",
        };
        if (string.IsNullOrWhiteSpace(body))
        {
            return fallback;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return fallback;
            }
            if (root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    return m.GetString()!;
                }
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString()!;
                }
            }
            var problem = root.Deserialize(AdminJsonContext.Default.ProblemDto);
            if (problem?.Errors is { Count: > 0 } errors)
            {
                return string.Join(" ", errors.SelectMany(e => e.Value));
            }
            if (!string.IsNullOrWhiteSpace(problem?.Detail))
            {
                return problem.Detail;
            }
            if (!string.IsNullOrWhiteSpace(problem?.Title))
            {
                return problem.Title;
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the status line is the best we have.
        }
        return fallback;
    }
}
