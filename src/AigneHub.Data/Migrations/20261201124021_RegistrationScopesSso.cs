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
                name: "OidcIssuer",
                schema: "aignehub",
                table: "users",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OidcSubject",
                schema: "aignehub",
                table: "users",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Scope",
                schema: "aignehub",
                table: "access_keys",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Full");

            // Keys made before scopes carried their holder's whole power and keep it (scripts depend on them),
            // except those the CLI connect flow handed out: a tool needs inference only.
            migrationBuilder.Sql("UPDATE aignehub.access_keys SET \"Scope\" = 'Inference' WHERE \"Kind\" = 'Api' AND \"Name\" = 'CLI (connect)'");

            migrationBuilder.CreateTable(
                name: "invitations",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    Did = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    UsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    UsedBy = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_invitations", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_users_OidcIssuer_OidcSubject",
                schema: "aignehub",
                table: "users",
                columns: new[] { "OidcIssuer", "OidcSubject" },
                unique: true,
                filter: "\"OidcSubject\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_invitations_Did",
                schema: "aignehub",
                table: "invitations",
                column: "Did");

            migrationBuilder.CreateIndex(
                name: "IX_invitations_Email",
                schema: "aignehub",
                table: "invitations",
                column: "Email");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "invitations",
                schema: "aignehub");

            migrationBuilder.DropIndex(
                name: "IX_users_OidcIssuer_OidcSubject",
                schema: "aignehub",
                table: "users");

            migrationBuilder.DropColumn(
                name: "OidcIssuer",
                schema: "aignehub",
                table: "users");

            migrationBuilder.DropColumn(
                name: "OidcSubject",
                schema: "aignehub",
                table: "users");

            migrationBuilder.DropColumn(
                name: "Scope",
                schema: "aignehub",
                table: "access_keys");
        }
    }
}
