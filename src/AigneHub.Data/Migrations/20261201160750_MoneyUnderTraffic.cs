using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class MoneyUnderTraffic : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_meter_events_pending",
                schema: "aignehub",
                table: "meter_events");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_activity_at",
                schema: "aignehub",
                table: "model_calls",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "dead_at",
                schema: "aignehub",
                table: "meter_events",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "idempotent_requests",
                schema: "aignehub",
                columns: table => new
                {
                    scope = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    request_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    content_type = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    location = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    response_body = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_idempotent_requests", x => new { x.scope, x.key });
                });

            migrationBuilder.CreateIndex(
                name: "ix_model_calls_completed_at",
                schema: "aignehub",
                table: "model_calls",
                column: "completed_at");

            migrationBuilder.CreateIndex(
                name: "ix_meter_events_dead",
                schema: "aignehub",
                table: "meter_events",
                column: "dead_at",
                filter: "dead_at IS NOT NULL AND delivered_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_meter_events_pending",
                schema: "aignehub",
                table: "meter_events",
                column: "next_attempt_at",
                filter: "delivered_at IS NULL AND dead_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_idempotent_requests_created_at",
                schema: "aignehub",
                table: "idempotent_requests",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "idempotent_requests",
                schema: "aignehub");

            migrationBuilder.DropIndex(
                name: "ix_model_calls_completed_at",
                schema: "aignehub",
                table: "model_calls");

            migrationBuilder.DropIndex(
                name: "ix_meter_events_dead",
                schema: "aignehub",
                table: "meter_events");

            migrationBuilder.DropIndex(
                name: "ix_meter_events_pending",
                schema: "aignehub",
                table: "meter_events");

            migrationBuilder.DropColumn(
                name: "last_activity_at",
                schema: "aignehub",
                table: "model_calls");

            migrationBuilder.DropColumn(
                name: "dead_at",
                schema: "aignehub",
                table: "meter_events");

            migrationBuilder.CreateIndex(
                name: "ix_meter_events_pending",
                schema: "aignehub",
                table: "meter_events",
                column: "next_attempt_at",
                filter: "delivered_at IS NULL");
        }
    }
}
