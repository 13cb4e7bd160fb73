using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class CallLeases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_activity_at",
                schema: "aignehub",
                table: "model_calls",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_model_calls_completed_at",
                schema: "aignehub",
                table: "model_calls",
                column: "completed_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_calls_completed_at",
                schema: "aignehub",
                table: "model_calls");

            migrationBuilder.DropColumn(
                name: "last_activity_at",
                schema: "aignehub",
                table: "model_calls");
        }
    }
}
