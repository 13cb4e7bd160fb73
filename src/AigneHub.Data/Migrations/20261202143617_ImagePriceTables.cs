using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class ImagePriceTables : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "image_prices",
                schema: "aignehub",
                table: "model_rates",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "image_prices",
                schema: "aignehub",
                table: "model_rate_history",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "image_prices",
                schema: "aignehub",
                table: "model_rates");

            migrationBuilder.DropColumn(
                name: "image_prices",
                schema: "aignehub",
                table: "model_rate_history");
        }
    }
}
