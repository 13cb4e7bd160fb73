using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// AWS Signature Version 4 written out step by step from AWS's documentation, for the Bedrock fake to check the hub's
/// signatures with (the hub signs through the AWS SDK; this is an independent reading of the same algorithm). It is
/// itself checked against AWS's published test-suite vectors (<c>SigV4VerifierTests</c>).
/// </summary>
public static partial class SigV4Verifier
{
    /// <summary>The canonical request: method, the raw path with each segment percent-encoded again, the sorted
    /// query, the signed headers (lower-case names, trimmed values), their names, the payload's SHA-256.</summary>
    public static string CanonicalRequest(string method, string rawPath, string rawQuery, IReadOnlyDictionary<string, string> signedHeaders, string payloadHash)
    {
        var path = string.Join("/", rawPath.Split('/').Select(Encode));
        var query = string.Join("&", rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(kv => (K: Encode(Uri.UnescapeDataString(kv[0])), V: Encode(Uri.UnescapeDataString(kv.Length > 1 ? kv[1] : ""))))
            .OrderBy(kv => kv.K, StringComparer.Ordinal).ThenBy(kv => kv.V, StringComparer.Ordinal)
            .Select(kv => kv.K + "=" + kv.V));
        var names = signedHeaders.Keys.Select(k => k.ToLowerInvariant()).Order(StringComparer.Ordinal).ToList();
        var headers = string.Concat(names.Select(n => n + ":" + signedHeaders.First(h => h.Key.Equals(n, StringComparison.OrdinalIgnoreCase)).Value.Trim() + "\n"));
        return $"{method}\n{(path.Length == 0 ? "/" : path)}\n{query}\n{headers}\n{string.Join(";", names)}\n{payloadHash}";
    }

    /// <summary>The hex signature of a canonical request, signed at <paramref name="amzDate"/> (<c>yyyyMMddTHHmmssZ</c>).</summary>
    public static string Signature(string secretAccessKey, string amzDate, string region, string service, string canonicalRequest)
    {
        var date = amzDate[..8];
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    /// <summary>What a request's <c>Authorization</c> header claims, or null when it is not a SigV4 header.</summary>
    public static SigV4Claim? ParseAuthorization(string? header)
    {
        if (header is null || AuthorizationPattern().Match(header) is not { Success: true } m)
        {
            return null;
        }
        return new SigV4Claim(m.Groups["key"].Value, m.Groups["date"].Value, m.Groups["region"].Value, m.Groups["service"].Value,
            m.Groups["signed"].Value.Split(';'), m.Groups["signature"].Value);
    }

    public static string PayloadHash(byte[] payload) => Hex(SHA256.HashData(payload));

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static string Encode(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request, SignedHeaders=(?<signed>[a-z0-9;-]+), Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();
}

/// <summary>The parts of a SigV4 <c>Authorization</c> header.</summary>
public sealed record SigV4Claim(string AccessKeyId, string Date, string Region, string Service, IReadOnlyList<string> SignedHeaders, string Signature);
