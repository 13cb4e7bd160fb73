using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts;

/// <summary>
/// Money and rates on the wire: written as a decimal string (<c>"0.00000018"</c>, never exponent notation, no
/// trailing zeros) because a JSON number reaches most clients as a binary float; read from a decimal string or a JSON
/// number, straight into <see cref="decimal"/> without a detour through <see cref="double"/>. Put it on each money
/// property (<c>[property: JsonConverter(typeof(DecimalString))]</c>) so the format holds whichever serializer
/// options or resolver writes the record.
/// </summary>
public sealed class DecimalString : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        // TryGetDecimal, not GetDecimal: a number beyond decimal's range must be a JsonException (a bad value), not a
        // FormatException escaping the serializer.
        JsonTokenType.Number when reader.TryGetDecimal(out var d) => d,
        JsonTokenType.String when decimal.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new JsonException($"Expected a decimal number or a decimal string, got {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) => writer.WriteStringValue(Format(value));

    /// <summary>The canonical text: dividing by 1.000… (scale 28) drops trailing zeros (0.000000180 → 0.00000018).</summary>
    public static string Format(decimal value) => (value / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);
}
