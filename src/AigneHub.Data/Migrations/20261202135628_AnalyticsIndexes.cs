using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class AnalyticsIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_usage_rollups_updated_at",
                schema: "aignehub",
                table: "usage_rollups",
                column: "updated_at");

            migrationBuilder.CreateIndex(
                name: "ix_model_calls_created_at_id",
                schema: "aignehub",
                table: "model_calls",
                columns: new[] { "created_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_usage_rollups_updated_at",
                schema: "aignehub",
                table: "usage_rollups");

            migrationBuilder.DropIndex(
                name: "ix_model_calls_created_at_id",
                schema: "aignehub",
                table: "model_calls");
        }
    }
}
