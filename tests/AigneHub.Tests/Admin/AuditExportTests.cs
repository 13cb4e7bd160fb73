using AigneHub.Admin.Audit;

namespace AigneHub.Tests.Admin;

public sealed class AuditExportTests
{
    [Theory]
    // A failed sign-in's "email" is whatever the attacker typed: it must reach the spreadsheet as text.
    [InlineData("=HYPERLINK(\"http://evil\")", "\"'=HYPERLINK(\"\"http://evil\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("plain", "plain")]
    [InlineData(null, "")]
    public void Attack_csv_formula_injection_through_an_audit_target_is_neutralised(string? value, string expected) =>
        Assert.Equal(expected, AuditExport.Cell(value));
}
