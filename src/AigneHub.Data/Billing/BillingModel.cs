using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace AigneHub.Data.Billing;

/// <summary>
/// Conventions shared by the billing tables. The money path talks to them in hand-written SQL (one statement per
/// step, see <see cref="BillingSql"/>), which the schema-wide snake_case names keep readable; enums are stored as
/// lower-case words so that SQL, rollups and exports show what the API shows.
/// </summary>
public static class BillingModel
{
    /// <summary>Credits: 20 integer digits, 10 decimal places (the credit formula rounds to 10 places).</summary>
    public const string CreditsColumnType = "numeric(30,10)";

    /// <summary>Rates per token can be far below a credit; they keep 18 decimal places.</summary>
    public const string RateColumnType = "numeric(38,18)";

    internal static PropertyBuilder<TEnum> HasLowerCaseConversion<TEnum>(this PropertyBuilder<TEnum> property) where TEnum : struct, Enum =>
        property.HasConversion(new ValueConverter<TEnum, string>(v => Word(v), v => Parse<TEnum>(v))).HasMaxLength(16);

    /// <summary>The stored word of an enum value (<c>ModelType.Chat</c> → <c>chat</c>).</summary>
    public static string Word<TEnum>(TEnum value) where TEnum : struct, Enum => value.ToString().ToLowerInvariant();

    public static TEnum Parse<TEnum>(string value) where TEnum : struct, Enum => Enum.Parse<TEnum>(value, ignoreCase: true);

    /// <summary>A decimal as JSON-safe text without trailing zeros ("12.5", not "12.5000000000").</summary>
    public static string Format(decimal value) => (value / 1.000000000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
