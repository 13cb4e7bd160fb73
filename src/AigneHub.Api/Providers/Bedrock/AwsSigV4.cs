using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;

namespace AigneHub.Api.Providers.Bedrock;

/// <summary>
/// An AWS credential as stored for a Bedrock provider: a JSON object <c>{"accessKeyId","secretAccessKey",
/// "sessionToken"?}</c> (the session token for temporary credentials). The access key id is not a secret; it is
/// what the admin lists show masked.
/// </summary>
public sealed record AwsCredential(string AccessKeyId, string SecretAccessKey, string? SessionToken)
{
    public override string ToString() => $"AwsCredential {{ AccessKeyId = {AccessKeyId} }}";

    /// <summary>The stored value read back; null (with the reason) when it is not one.</summary>
    public static AwsCredential? TryParse(string? secret, out string? problem)
    {
        problem = null;
        try
        {
            using var doc = JsonDocument.Parse(secret ?? "");
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = "must be a JSON object {\"accessKeyId\",\"secretAccessKey\",\"sessionToken\"?}";
                return null;
            }
            string? Field(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()!.Trim() : null;
            var id = Field("accessKeyId");
            var key = Field("secretAccessKey");
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(key))
            {
                problem = "needs both 'accessKeyId' and 'secretAccessKey'";
                return null;
            }
            var token = Field("sessionToken");
            return new AwsCredential(id, key, string.IsNullOrEmpty(token) ? null : token);
        }
        catch (JsonException)
        {
            problem = "must be a JSON object {\"accessKeyId\",\"secretAccessKey\",\"sessionToken\"?}";
            return null;
        }
    }
}

/// <summary>
/// Signs a request with AWS Signature Version 4. The canonical request (method, the path with every segment
/// URI-encoded once more — Bedrock's model ids carry <c>:</c>, already <c>%3A</c> in the URL, so <c>%253A</c> here —
/// the sorted query, the signed headers, the payload's SHA-256) is built here; the string to sign, the signing-key
/// derivation and the HMAC are the AWS SDK's own (<see cref="AWS4Signer.ComputeSignature(ImmutableCredentials, string, DateTime, string, string, string)"/>).
/// </summary>
public static class AwsSigV4
{
    /// <summary>Adds <c>x-amz-date</c>, <c>x-amz-content-sha256</c>, the session token if any, and <c>Authorization</c>.</summary>
    public static void Sign(HttpRequestMessage request, byte[] payload, AwsCredential credential, string region, string service, DateTimeOffset now)
    {
        var signedAt = now.UtcDateTime;
        var amzDate = signedAt.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(payload));
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        if (credential.SessionToken is { } token)
        {
            request.Headers.TryAddWithoutValidation("x-amz-security-token", token);
        }
        var uri = request.RequestUri!;
        SortedDictionary<string, string> headers = new(StringComparer.Ordinal)
        {
            ["host"] = uri.IsDefaultPort ? uri.Host : uri.Authority,
            ["x-amz-date"] = amzDate,
            ["x-amz-content-sha256"] = payloadHash,
        };
        if (credential.SessionToken is { } sessionToken)
        {
            headers["x-amz-security-token"] = sessionToken;
        }
        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers["content-type"] = contentType.ToString();
        }
        var canonical = CanonicalRequest(request.Method.Method, uri, headers, payloadHash);
        var signedHeaders = string.Join(';', headers.Keys);
        var result = AWS4Signer.ComputeSignature(new ImmutableCredentials(credential.AccessKeyId, credential.SecretAccessKey, credential.SessionToken),
            region, signedAt, service, signedHeaders, canonical);
        request.Headers.TryAddWithoutValidation("Authorization", result.ForAuthorizationHeader);
    }

    /// <summary>The canonical request of SigV4 for a non-S3 service; <paramref name="headers"/> lower-case and sorted.</summary>
    public static string CanonicalRequest(string method, Uri uri, IReadOnlyDictionary<string, string> headers, string payloadHash)
    {
        var path = uri.AbsolutePath.Length == 0 ? "/" : string.Join('/', uri.AbsolutePath.Split('/').Select(Encode));
        var query = uri.Query.TrimStart('?');
        var canonicalQuery = query.Length == 0 ? "" : string.Join('&', query.Split('&')
            .Select(p => p.Split('=', 2))
            .Select(kv => (Key: Encode(Uri.UnescapeDataString(kv[0])), Value: Encode(Uri.UnescapeDataString(kv.Length > 1 ? kv[1] : ""))))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}={kv.Value}"));
        var builder = new StringBuilder();
        builder.Append(method).Append('\n').Append(path).Append('\n').Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            builder.Append(name).Append(':').Append(value.Trim()).Append('\n');
        }
        builder.Append('\n').Append(string.Join(';', headers.Keys.Order(StringComparer.Ordinal))).Append('\n').Append(payloadHash);
        return builder.ToString();
    }

    /// <summary>RFC 3986 percent-encoding of everything but the unreserved characters, upper-case hex (SigV4's rule).</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }
}
