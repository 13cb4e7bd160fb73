using System.Text;
using AigneHub.Api.Providers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace AigneHub.Api.Gateway.Protocols;

/// <summary>A caller's multipart form: its text fields and its files (by part name), each in order.</summary>
public sealed record UploadForm(IReadOnlyList<KeyValuePair<string, string>> Fields, IReadOnlyList<KeyValuePair<string, UploadedFile>> Files)
{
    /// <summary>The files sent in the parts named <paramref name="names"/>, in order.</summary>
    public IReadOnlyList<UploadedFile> FilesOf(params string[] names) => [.. Files.Where(f => names.Contains(f.Key, StringComparer.Ordinal)).Select(f => f.Value)];

    /// <summary>The one value of a field that may appear once (a second is a 400 naming it).</summary>
    public string? Single(string name)
    {
        string? value = null;
        foreach (var (key, text) in Fields)
        {
            if (key == name)
            {
                value = value is null ? text : throw GatewayException.BadRequest($"'{name}' was sent more than once.", name);
            }
        }
        return value;
    }
}

/// <summary>
/// The body of an upload route (<c>multipart/form-data</c>, read with ASP.NET Core's <see cref="MultipartReader"/>):
/// files only in the parts the route names (each of the single ones once), together at most <see cref="MaxFileBytes"/>
/// (413), the body at most that and <see cref="MaxFieldsBytes"/> of fields; anything else is a 400 naming what is
/// wrong. Files are kept whole in memory: a failover sends them again.
/// </summary>
public static class CallerUpload
{
    /// <summary>OpenAI's own limit for audio uploads (and here for all of one request's files).</summary>
    public const long MaxFileBytes = 25 * 1024 * 1024;

    /// <summary>Room for the text fields (a prompt, a language, the parts' headers).</summary>
    public const long MaxFieldsBytes = 1024 * 1024;

    private const int MaxFields = 64;

    /// <param name="single">File parts that may come once (<c>file</c>, <c>mask</c>).</param>
    /// <param name="repeated">File parts that may come several times (<c>image</c>, <c>image[]</c>).</param>
    public static async Task<UploadForm> ReadAsync(HttpContext context, string[] single, string[]? repeated = null)
    {
        repeated ??= [];
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !string.Equals(type.MediaType.Value, "multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw GatewayException.BadRequest($"The request body must be multipart/form-data with a '{single.Concat(repeated).First()}' file part.");
        }
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 70)
        {
            throw GatewayException.BadRequest("The multipart/form-data content type has no valid boundary.");
        }
        if (request.ContentLength > MaxFileBytes + MaxFieldsBytes)
        {
            throw TooLarge();
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxFileBytes + MaxFieldsBytes;
        }

        var fields = new List<KeyValuePair<string, string>>();
        var files = new List<KeyValuePair<string, UploadedFile>>();
        long fileBytes = 0;
        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(context.RequestAborted) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                    || disposition.Name.Value is not { Length: > 0 } quotedName)
                {
                    throw GatewayException.BadRequest("Every part of the form needs a Content-Disposition of form-data with a name.");
                }
                var name = HeaderUtilities.RemoveQuotes(quotedName).Value!;
                if (disposition.IsFileDisposition())
                {
                    if (!single.Contains(name, StringComparer.Ordinal) && !repeated.Contains(name, StringComparer.Ordinal))
                    {
                        throw GatewayException.BadRequest($"Unexpected file part '{name}': files go in {string.Join(", ", single.Concat(repeated).Select(n => $"'{n}'"))}.", name);
                    }
                    if (single.Contains(name, StringComparer.Ordinal) && files.Any(f => f.Key == name))
                    {
                        throw GatewayException.BadRequest($"'{name}' was sent more than once.", name);
                    }
                    var bytes = await ReadUpToAsync(section.Body, MaxFileBytes - fileBytes, context.RequestAborted) ?? throw TooLarge();
                    fileBytes += bytes.Length;
                    var fileName = (disposition.FileNameStar.HasValue ? disposition.FileNameStar : HeaderUtilities.RemoveQuotes(disposition.FileName)).Value;
                    files.Add(new(name, new UploadedFile(string.IsNullOrWhiteSpace(fileName) ? name : fileName, section.ContentType ?? "application/octet-stream", bytes)));
                    continue;
                }
                if (fields.Count == MaxFields)
                {
                    throw GatewayException.BadRequest($"The form has more than {MaxFields} fields.");
                }
                var text = await ReadUpToAsync(section.Body, MaxFieldsBytes, context.RequestAborted) ?? throw TooLarge();
                fields.Add(new(name, Text(text, name)));
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }
        catch (IOException ex)
        {
            // MultipartReader's InvalidDataException (a missing boundary, a torn part) and a body cut short.
            throw GatewayException.BadRequest($"The multipart body could not be read: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            throw GatewayException.BadRequest($"The multipart body could not be read: {ex.Message}");
        }
        return new UploadForm(fields, files);
    }

    /// <summary>The whole stream, or null once it passes <paramref name="limit"/> bytes.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadUpToAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static string Text(ReadOnlyMemory<byte> utf8, string name)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8.Span);
            return text.Contains('\0', StringComparison.Ordinal) ? throw JsonFields.Invalid(name, "must not contain NUL") : text;
        }
        catch (DecoderFallbackException)
        {
            throw JsonFields.Invalid(name, "must be UTF-8 text");
        }
    }

    private static GatewayException TooLarge() =>
        new(413, "invalid_request_error", $"The upload is larger than {MaxFileBytes / (1024 * 1024)} MiB.", code: "request_too_large");
}
