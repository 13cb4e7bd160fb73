using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProcessingCallsIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_calls_status_created_at",
                schema: "aignehub",
                table: "model_calls");

            migrationBuilder.CreateIndex(
                name: "ix_model_calls_processing",
                schema: "aignehub",
                table: "model_calls",
                column: "created_at",
                filter: "status = 'processing'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_calls_processing",
                schema: "aignehub",
                table: "model_calls");

            migrationBuilder.CreateIndex(
                name: "ix_model_calls_status_created_at",
                schema: "aignehub",
                table: "model_calls",
                columns: new[] { "status", "created_at" });
        }
    }
}
