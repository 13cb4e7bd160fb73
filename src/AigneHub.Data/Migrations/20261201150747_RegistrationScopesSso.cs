using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class RegistrationScopesSso : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "oidc_issuer",
                schema: "aignehub",
                table: "users",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "oidc_subject",
                schema: "aignehub",
                table: "users",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "scope",
                schema: "aignehub",
                table: "access_keys",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Full");

            // Keys made before scopes carried their holder's whole power and keep it (scripts depend on them),
            // except those the CLI connect flow handed out: a tool needs inference only.
            migrationBuilder.Sql("UPDATE aignehub.access_keys SET scope = 'Inference' WHERE kind = 'Api' AND name = 'CLI (connect)'");
            // The default was for the rows above only; the model has none (every new key is given its scope).
            migrationBuilder.Sql("ALTER TABLE aignehub.access_keys ALTER COLUMN scope DROP DEFAULT");

            migrationBuilder.CreateTable(
                name: "invitations",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    did = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_by = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    used_by = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_invitations", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_users_oidc_issuer_oidc_subject",
                schema: "aignehub",
                table: "users",
                columns: new[] { "oidc_issuer", "oidc_subject" },
                unique: true,
                filter: "oidc_subject IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_invitations_did",
                schema: "aignehub",
                table: "invitations",
                column: "did");

            migrationBuilder.CreateIndex(
                name: "ix_invitations_email",
                schema: "aignehub",
                table: "invitations",
                column: "email");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "invitations",
                schema: "aignehub");

            migrationBuilder.DropIndex(
                name: "ix_users_oidc_issuer_oidc_subject",
                schema: "aignehub",
                table: "users");

            migrationBuilder.DropColumn(
                name: "oidc_issuer",
                schema: "aignehub",
                table: "users");

            migrationBuilder.DropColumn(
                name: "oidc_subject",
                schema: "aignehub",
                table: "users");

            migrationBuilder.DropColumn(
                name: "scope",
                schema: "aignehub",
                table: "access_keys");
        }
    }
}
