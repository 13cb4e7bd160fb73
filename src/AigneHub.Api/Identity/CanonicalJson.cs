using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Identity;

/// <summary>
/// The JSON Canonicalization Scheme (RFC 8785, "JCS"), which the v1 signature covers: object members sorted by
/// the UTF-16 code units of their names, no whitespace, strings with only the mandatory escapes (<c>\"</c>,
/// <c>\\</c>, <c>\b \f \n \r \t</c>, other controls as lower-case <c>\u00xx</c>), numbers as ECMAScript prints an
/// IEEE-754 double (<c>1</c>, <c>1.5</c>, <c>1e+21</c>, <c>1e-7</c>). JavaScript's
/// <c>canonicalize</c> packages and Python's <c>jcs</c> produce the same bytes.
/// </summary>
public static class CanonicalJson
{
    public static byte[] Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }
                    first = false;
                    WriteString(sb, name);
                    sb.Append(':');
                    Write(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }
                    Write(sb, array[i]);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                string text;
                try
                {
                    text = value.GetValue<string>();
                }
                catch (InvalidOperationException)
                {
                    throw new FormatException("A string holds a lone UTF-16 surrogate, which has no canonical form.");
                }
                WriteString(sb, text);
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                // Whatever backs the node (a parsed element, a long, a double), its JSON text read as a double is
                // the I-JSON value JCS prints; out-of-range literals become infinities and are refused.
                sb.Append(FormatNumber(double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)));
                break;
            default:
                throw new FormatException($"Unexpected JSON value kind {value.GetValueKind()}.");
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(c).Append(s[++i]);
                continue;
            }
            if (char.IsSurrogate(c))
            {
                throw new FormatException("A string holds a lone UTF-16 surrogate, which has no canonical form.");
            }
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>ECMAScript Number::toString for a finite double (RFC 8785 §3.2.2.3).</summary>
    public static string FormatNumber(double d)
    {
        if (!double.IsFinite(d))
        {
            throw new FormatException("A number is outside the range of an IEEE-754 double.");
        }
        if (d == 0)
        {
            return "0"; // -0 too
        }
        if (d < 0)
        {
            return "-" + FormatNumber(-d);
        }

        // .NET's "R" is the shortest round-trip form; take its digits and decimal exponent, then lay them out as
        // ECMAScript does.
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E');
        var exponent = e >= 0 ? int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture) : 0;
        var mantissa = e >= 0 ? r[..e] : r;
        var dot = mantissa.IndexOf('.');
        var digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        var integerLength = dot >= 0 ? dot : mantissa.Length;
        var lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
        }
        digits = digits[lead..].TrimEnd('0');
        integerLength -= lead;
        var k = digits.Length;
        var n = integerLength + exponent; // value = 0.digits × 10^n

        if (k <= n && n <= 21)
        {
            return digits + new string('0', n - k);
        }
        if (0 < n && n <= 21)
        {
            return digits[..n] + "." + digits[n..];
        }
        if (-6 < n && n <= 0)
        {
            return "0." + new string('0', -n) + digits;
        }
        var exp = n - 1;
        var sign = exp < 0 ? "-" : "+";
        var head = k == 1 ? digits : digits[..1] + "." + digits[1..];
        return head + "e" + sign + Math.Abs(exp).ToString(CultureInfo.InvariantCulture);
    }
}
