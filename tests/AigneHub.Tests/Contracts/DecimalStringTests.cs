using System.Text.Json;
using AigneHub.Contracts;
using AigneHub.Contracts.Billing;

namespace AigneHub.Tests.Contracts;

/// <summary>Money on the wire: a decimal string both ways, read from a string or a number without a binary float.</summary>
public sealed class DecimalStringTests
{
    [Theory]
    [InlineData("0.000000180", "0.00000018")]
    [InlineData("25", "25")]
    [InlineData("25.000", "25")]
    [InlineData("-3.2500", "-3.25")]
    [InlineData("0.0000000000000000000000000001", "0.0000000000000000000000000001")]
    [InlineData("1000000000000.0000000000000001", "1000000000000.0000000000000001")]
    public void Writes_the_shortest_plain_decimal_text(string value, string expected)
    {
        Assert.Equal(expected, DecimalString.Format(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));
        var json = JsonSerializer.Serialize(new GrantTotals(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture), 0m),
            BillingJsonContext.Default.GrantTotals);
        Assert.Equal($$"""{"paid":"{{expected}}","promotional":"0"}""", json);
    }

    [Theory]
    [InlineData("\"0.1\"")]
    [InlineData("0.1")]
    [InlineData("\"1e-1\"")]
    [InlineData("1E-1")]
    public void Reads_a_decimal_string_or_a_number_exactly(string wire)
    {
        var totals = JsonSerializer.Deserialize($$"""{"paid":{{wire}},"promotional":"0.30000000000000000001"}""", BillingJsonContext.Default.GrantTotals)!;
        Assert.Equal(0.1m, totals.Paid);
        Assert.Equal(0.30000000000000000001m, totals.Promotional);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("true")]
    [InlineData("\"ten\"")]
    [InlineData("[]")]
    public void Anything_else_is_a_JsonException_not_a_crash(string wire) =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize($$"""{"paid":{{wire}},"promotional":"0"}""", BillingJsonContext.Default.GrantTotals));

    [Fact]
    public void A_missing_optional_amount_stays_null_and_is_written_as_null()
    {
        var request = JsonSerializer.Deserialize("""{"amount":"5","category":"paid"}""", BillingJsonContext.Default.GrantRequest)!;
        Assert.Equal(5m, request.Amount);
        Assert.Null(request.ExpiresAt);
        Assert.Equal("""{"amount":null,"category":"paid","expiresAt":null,"note":null}""",
            JsonSerializer.Serialize(request with { Amount = null }, BillingJsonContext.Default.GrantRequest));
    }
}
