using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class StoredResponses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "stored_responses",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    previous_response_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    input = table.Column<string>(type: "json", nullable: false),
                    response = table.Column<string>(type: "json", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_stored_responses", x => x.id);
                    table.ForeignKey(
                        name: "fk_stored_responses_model_calls_call_id",
                        column: x => x.call_id,
                        principalSchema: "aignehub",
                        principalTable: "model_calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_stored_responses_call_id",
                schema: "aignehub",
                table: "stored_responses",
                column: "call_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "stored_responses",
                schema: "aignehub");
        }
    }
}
