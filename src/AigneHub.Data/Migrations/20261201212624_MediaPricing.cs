using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class MediaPricing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<decimal>(
                name: "character_rate",
                schema: "aignehub",
                table: "model_rates",
                type: "numeric(38,18)",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "second_rate",
                schema: "aignehub",
                table: "model_rates",
                type: "numeric(38,18)",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "character_rate",
                schema: "aignehub",
                table: "model_rate_history",
                type: "numeric(38,18)",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "second_rate",
                schema: "aignehub",
                table: "model_rate_history",
                type: "numeric(38,18)",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "audio_seconds",
                schema: "aignehub",
                table: "model_calls",
                type: "numeric(18,3)",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "characters",
                schema: "aignehub",
                table: "model_calls",
                type: "integer",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "character_rate",
                schema: "aignehub",
                table: "model_rates");

            migrationBuilder.DropColumn(
                name: "second_rate",
                schema: "aignehub",
                table: "model_rates");

            migrationBuilder.DropColumn(
                name: "character_rate",
                schema: "aignehub",
                table: "model_rate_history");

            migrationBuilder.DropColumn(
                name: "second_rate",
                schema: "aignehub",
                table: "model_rate_history");

            migrationBuilder.DropColumn(
                name: "audio_seconds",
                schema: "aignehub",
                table: "model_calls");

            migrationBuilder.DropColumn(
                name: "characters",
                schema: "aignehub",
                table: "model_calls");
        }
    }
}
