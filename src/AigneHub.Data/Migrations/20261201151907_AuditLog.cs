using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class AuditLog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_events",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    actor_role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    actor_key_id = table.Column<Guid>(type: "uuid", nullable: true),
                    action = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    route = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    target = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    status = table.Column<int>(type: "integer", nullable: false),
                    client_address = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    before = table.Column<string>(type: "jsonb", nullable: true),
                    after = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_events", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_audit_events_action_id",
                schema: "aignehub",
                table: "audit_events",
                columns: new[] { "action", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_events_actor_user_id_id",
                schema: "aignehub",
                table: "audit_events",
                columns: new[] { "actor_user_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_events_occurred_at",
                schema: "aignehub",
                table: "audit_events",
                column: "occurred_at");

            // Append-only: an entry is never edited, by the application or by anyone holding its credentials. Only
            // deletes remain possible, for the Worker's retention.
            migrationBuilder.Sql("""
                CREATE FUNCTION aignehub.audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
                END $$;
                CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON aignehub.audit_events
                  FOR EACH ROW EXECUTE FUNCTION aignehub.audit_events_append_only();
                CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON aignehub.audit_events
                  FOR EACH STATEMENT EXECUTE FUNCTION aignehub.audit_events_append_only();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS audit_events_no_update ON aignehub.audit_events; DROP TRIGGER IF EXISTS audit_events_no_truncate ON aignehub.audit_events;");
            migrationBuilder.DropTable(
                name: "audit_events",
                schema: "aignehub");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS aignehub.audit_events_append_only();");
        }
    }
}
