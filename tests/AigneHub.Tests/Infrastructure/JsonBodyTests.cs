using System.Text;
using AigneHub.Api.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Tests.Infrastructure;

/// <summary>The management body reader names the field where a malformed body breaks off, as a form needs it.</summary>
public sealed class JsonBodyTests
{
    [Theory]
    [InlineData("""{"name":""", "name")]
    [InlineData("""{"name":"x","enabled":tru""", "enabled")]
    [InlineData("""{"a":{"b":[1,{"c":nope}]}}""", "a.b[1].c")]
    [InlineData("""{"a":[[1],[2,""", "a[1][1]")]
    [InlineData("""{not json""", null)]
    [InlineData("""[1,""", null)]
    public async Task Malformed_JSON_is_a_400_naming_the_field_where_it_breaks(string json, string? param)
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(json);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;

        var (body, error) = await JsonBody.ReadAsync(context.Request);

        Assert.Null(body);
        Assert.Equal(400, error!.StatusCode);
        Assert.StartsWith("The request body is not valid JSON", error.Value!.Error.Message, StringComparison.Ordinal);
        Assert.Equal(param, error.Value.Error.Param);
    }
}
