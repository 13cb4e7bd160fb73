using System.Net;
using AigneHub.Admin.Api;
using AigneHub.Admin.Auth;
using AigneHub.Admin.Billing;

namespace AigneHub.Tests.Admin;

public class ApiHttpTests
{
    [Theory]
    [InlineData("""{"error":{"message":"Unknown provider 'x'.","type":"invalid_request_error"}}""", "Unknown provider 'x'.")]
    [InlineData("""{"title":"One or more validation errors occurred.","errors":{"amount":["'amount' must be greater than 0."]}}""", "'amount' must be greater than 0.")]
    [InlineData("""{"title":"Duplicate rate","detail":"A rate for openai/gpt-4o (chat) already exists."}""", "A rate for openai/gpt-4o (chat) already exists.")]
    [InlineData("<html>bad gateway</html>", "The Api answered 400 BadRequest.")]
    [InlineData("", "The Api answered 400 BadRequest.")]
    public void The_error_message_comes_from_either_error_shape(string body, string expected) =>
        Assert.Equal(expected, ApiHttp.ErrorMessage(HttpStatusCode.BadRequest, body));

    [Fact]
    public void An_empty_401_says_to_sign_in_again() =>
        Assert.Contains("Sign in again", ApiHttp.ErrorMessage(HttpStatusCode.Unauthorized, null));

    [Theory]
    [InlineData("/providers", "/providers")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData(null, "/")]
    public void Sign_in_only_returns_to_local_paths(string? returnUrl, string expected) =>
        Assert.Equal(expected, AdminAuthExtensions.SafeReturnUrl(returnUrl));

    [Fact]
    public void Margin_helper_matches_the_api_formula()
    {
        // $2.50 per 1M input tokens, +20 %, a credit sells for $0.001 → 0.003 credits per token = 3000 per 1M.
        var rate = RateMath.RateFor(2.50m / 1_000_000m, 20m, 0.001m);
        Assert.Equal(0.003m, rate);
        Assert.Equal(3000m, RateMath.ToDisplay(rate, "chat"));
        Assert.Equal(0.003m, RateMath.FromDisplay(3000m, "chat"));
        Assert.Equal(0.04m, RateMath.ToDisplay(0.04m, "image"));
    }

    [Fact]
    public void Call_filters_become_query_parameters()
    {
        var url = UsageApiClient.Url(admin: true, "model-calls", new CallFilter
        {
            From = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            Status = "failed",
            Model = "openai/gpt-4o mini",
        }, ("page", "2"));
        Assert.Equal("/api/admin/model-calls?from=2026-11-01T00%3A00%3A00.0000000%2B00%3A00&status=failed&model=openai%2Fgpt-4o%20mini&page=2", url);
    }

    [Fact]
    public void Stream_chunks_carry_text_usage_and_errors()
    {
        Assert.Equal("Hel", GatewayApiClient.ParseChunk("""{"choices":[{"index":0,"delta":{"content":"Hel"}}]}""")!.Text);
        var usage = GatewayApiClient.ParseChunk("""{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}""")!;
        Assert.Equal((7, 3), (usage.PromptTokens!.Value, usage.CompletionTokens!.Value));
        Assert.Equal("upstream died", GatewayApiClient.ParseChunk("""{"error":{"message":"upstream died"}}""")!.Error);
        Assert.Null(GatewayApiClient.ParseChunk("""{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"""));
    }
}
