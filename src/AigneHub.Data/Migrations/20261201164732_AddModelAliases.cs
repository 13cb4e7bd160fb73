using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class AddModelAliases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "model_aliases",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    targets = table.Column<List<string>>(type: "text[]", nullable: false),
                    enabled = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_aliases", x => x.id);
                });

            // The built-in aliases, which an admin may change or delete: each family to its maker, same model name.
            migrationBuilder.Sql("""
                INSERT INTO aignehub.model_aliases (id, name, targets, enabled, created_at, updated_at) VALUES
                  ('0193f000-0000-7000-8000-000000000001', 'claude-*', ARRAY['anthropic/*'], true, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
                  ('0193f000-0000-7000-8000-000000000002', 'gpt-*', ARRAY['openai/*'], true, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
                  ('0193f000-0000-7000-8000-000000000003', 'o[0-9]*', ARRAY['openai/*'], true, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),
                  ('0193f000-0000-7000-8000-000000000004', 'gemini-*', ARRAY['google/*'], true, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');
                """);

            migrationBuilder.CreateIndex(
                name: "ix_model_aliases_name",
                schema: "aignehub",
                table: "model_aliases",
                column: "name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_aliases",
                schema: "aignehub");
        }
    }
}
