using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace AigneHub.Data.Billing;

/// <summary>
/// One entry of an image rate's price table: credits per image of this <see cref="Size"/> and/or
/// <see cref="Quality"/> (at least one is set). <see cref="RateCard.PerImage"/> picks the entry that applies.
/// </summary>
public sealed record ImagePrice(string? Size, string? Quality, decimal Price);

/// <summary>
/// The table as it is stored: a <c>jsonb</c> array of <c>{"size","quality","price"}</c>, the price a decimal string
/// (as <see cref="ModelRate.UnitCosts"/> holds its prices) so that no digit passes through a binary float.
/// </summary>
internal static class ImagePriceColumn
{
    public static readonly ValueConverter<IReadOnlyList<ImagePrice>?, string?> Converter = new(t => ToJson(t), s => FromJson(s));

    // The list is never changed in place (a rate gets a new one), so a snapshot is the same instance.
    public static readonly ValueComparer<IReadOnlyList<ImagePrice>?> Comparer = new(
        (a, b) => ToJson(a) == ToJson(b), t => (ToJson(t) ?? "").GetHashCode(StringComparison.Ordinal), t => t);

    private static string? ToJson(IReadOnlyList<ImagePrice>? table)
    {
        if (table is null)
        {
            return null;
        }
        var array = new JsonArray();
        foreach (var entry in table)
        {
            var item = new JsonObject();
            if (entry.Size is not null)
            {
                item["size"] = entry.Size;
            }
            if (entry.Quality is not null)
            {
                item["quality"] = entry.Quality;
            }
            item["price"] = BillingModel.Format(entry.Price);
            array.Add(item);
        }
        return array.ToJsonString();
    }

    private static IReadOnlyList<ImagePrice>? FromJson(string? json) =>
        json is null || JsonNode.Parse(json) is not JsonArray array ? null
            : [.. array.Select(e => new ImagePrice((string?)e!["size"], (string?)e["quality"],
                decimal.Parse((string)e["price"]!, NumberStyles.Float, CultureInfo.InvariantCulture)))];
}
