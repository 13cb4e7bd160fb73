using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class CallLeasesAndMeterDeadLetters : Migration
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
