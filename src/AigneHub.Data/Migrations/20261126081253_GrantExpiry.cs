using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class GrantExpiry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "expired_at",
                schema: "aignehub",
                table: "credit_grants",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ux_credit_ledger_expiry",
                schema: "aignehub",
                table: "credit_ledger",
                column: "grant_id",
                unique: true,
                filter: "kind = 'expiry'");

            migrationBuilder.CreateIndex(
                name: "ix_credit_grants_due",
                schema: "aignehub",
                table: "credit_grants",
                column: "expires_at",
                filter: "expired_at IS NULL AND expires_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_credit_ledger_expiry",
                schema: "aignehub",
                table: "credit_ledger");

            migrationBuilder.DropIndex(
                name: "ix_credit_grants_due",
                schema: "aignehub",
                table: "credit_grants");

            migrationBuilder.DropColumn(
                name: "expired_at",
                schema: "aignehub",
                table: "credit_grants");
        }
    }
}
