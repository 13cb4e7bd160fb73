using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Some URLs carry a secret in their path: the CLI connect session id (<c>/connect/{id}</c> on the Admin,
/// <c>/api/v2/access-key/session/{id}</c> on the Api), which is all it takes to collect the key an approval issues.
/// Span names and URL tags of server and client spans (both apps, one mechanism) get the segment replaced before
/// any exporter sees them.
/// </summary>
public sealed partial class SecretPathRedaction : BaseProcessor<Activity>
{
    public const string Redacted = "{redacted}";

    private static readonly string[] UrlTags = ["url.path", "url.full", "http.target", "http.url"];

    [GeneratedRegex("(/connect/|/access-key/session/)[0-9a-f]{32}", RegexOptions.CultureInvariant)]
    private static partial Regex SecretSegment();

    public static string Redact(string value) => SecretSegment().Replace(value, "$1" + Redacted);

    public override void OnEnd(Activity data)
    {
        if (SecretSegment().IsMatch(data.DisplayName))
        {
            data.DisplayName = Redact(data.DisplayName);
        }
        foreach (var tag in UrlTags)
        {
            if (data.GetTagItem(tag) is string value && SecretSegment().IsMatch(value))
            {
                data.SetTag(tag, Redact(value));
            }
        }
    }
}
