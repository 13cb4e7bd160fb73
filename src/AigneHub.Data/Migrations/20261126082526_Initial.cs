using System;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "aignehub");

            migrationBuilder.CreateTable(
                name: "apps",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    PublicKey = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_apps", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "credit_ledger",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    amount = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    model_call_id = table.Column<Guid>(type: "uuid", nullable: true),
                    grant_id = table.Column<Guid>(type: "uuid", nullable: true),
                    description = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credit_ledger", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "meter_events",
                schema: "aignehub",
                columns: table => new
                {
                    model_call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    credits = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_meter_events", x => x.model_call_id);
                });

            migrationBuilder.CreateTable(
                name: "model_calls",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    app_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    access_key_id = table.Column<Guid>(type: "uuid", nullable: true),
                    surface = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    provider = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    requested_model = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    credential_id = table.Column<Guid>(type: "uuid", nullable: true),
                    type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    prompt_tokens = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    completion_tokens = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    cache_creation_tokens = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    cache_read_tokens = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    images = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    image_size = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    image_quality = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    video_seconds = table.Column<decimal>(type: "numeric(18,3)", nullable: true),
                    parameters = table.Column<JsonObject>(type: "jsonb", nullable: true),
                    credits = table.Column<decimal>(type: "numeric(30,10)", nullable: false, defaultValue: 0m),
                    reserved_credits = table.Column<decimal>(type: "numeric(30,10)", nullable: false, defaultValue: 0m),
                    billed = table.Column<bool>(type: "boolean", nullable: false),
                    estimated = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    duration_ms = table.Column<int>(type: "integer", nullable: true),
                    gateway_ttfb_ms = table.Column<int>(type: "integer", nullable: true),
                    provider_ttfb_ms = table.Column<int>(type: "integer", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    error_reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    request_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    trace_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_calls", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "model_health",
                schema: "aignehub",
                columns: table => new
                {
                    ProviderName = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Available = table.Column<bool>(type: "boolean", nullable: false),
                    ErrorClass = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    LastError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ResponseTimeMs = table.Column<int>(type: "integer", nullable: false),
                    ChangedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_health", x => new { x.ProviderName, x.Model, x.Type });
                });

            migrationBuilder.CreateTable(
                name: "model_rate_history",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    rate_id = table.Column<Guid>(type: "uuid", nullable: false),
                    change = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    provider = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    input_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: false),
                    output_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: false),
                    cache_write_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: true),
                    cache_read_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: true),
                    unit_costs = table.Column<JsonObject>(type: "jsonb", nullable: true),
                    metadata = table.Column<JsonObject>(type: "jsonb", nullable: true),
                    deprecated = table.Column<bool>(type: "boolean", nullable: false),
                    changed_by = table.Column<Guid>(type: "uuid", nullable: true),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_rate_history", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "model_rates",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    provider = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    input_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: false),
                    output_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: false),
                    cache_write_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: true),
                    cache_read_rate = table.Column<decimal>(type: "numeric(38,18)", nullable: true),
                    unit_costs = table.Column<JsonObject>(type: "jsonb", nullable: true),
                    metadata = table.Column<JsonObject>(type: "jsonb", nullable: true),
                    deprecated = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_rates", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "providers",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    BaseUrl = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_providers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "usage_rollups",
                schema: "aignehub",
                columns: table => new
                {
                    granularity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    bucket_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    app_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    provider = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    calls = table.Column<long>(type: "bigint", nullable: false),
                    successes = table.Column<long>(type: "bigint", nullable: false),
                    prompt_tokens = table.Column<long>(type: "bigint", nullable: false),
                    completion_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cache_tokens = table.Column<long>(type: "bigint", nullable: false),
                    images = table.Column<long>(type: "bigint", nullable: false),
                    credits = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    duration_ms_sum = table.Column<long>(type: "bigint", nullable: false),
                    ttfb_p50_ms = table.Column<double>(type: "double precision", nullable: true),
                    ttfb_p95_ms = table.Column<double>(type: "double precision", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_usage_rollups", x => new { x.granularity, x.bucket_start, x.user_id, x.app_id, x.provider, x.model, x.type });
                });

            migrationBuilder.CreateTable(
                name: "users",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Did = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Disabled = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    PasswordHash = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "app_subscriptions",
                schema: "aignehub",
                columns: table => new
                {
                    AppId = table.Column<Guid>(type: "uuid", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CurrentPeriodEnd = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_subscriptions", x => x.AppId);
                    table.ForeignKey(
                        name: "FK_app_subscriptions_apps_AppId",
                        column: x => x.AppId,
                        principalSchema: "aignehub",
                        principalTable: "apps",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ai_models",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProviderId = table.Column<Guid>(type: "uuid", nullable: false),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Metadata = table.Column<string>(type: "jsonb", nullable: true),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ai_models", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ai_models_providers_ProviderId",
                        column: x => x.ProviderId,
                        principalSchema: "aignehub",
                        principalTable: "providers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "provider_credentials",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProviderId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    EncryptedValue = table.Column<byte[]>(type: "bytea", nullable: false),
                    MaskedValue = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Weight = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    LastError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    LastErrorAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastUsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    NextCheckAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FailedChecks = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_provider_credentials", x => x.Id);
                    table.CheckConstraint("ck_provider_credentials_weight", "\"Weight\" BETWEEN 1 AND 1000");
                    table.ForeignKey(
                        name: "FK_provider_credentials_providers_ProviderId",
                        column: x => x.ProviderId,
                        principalSchema: "aignehub",
                        principalTable: "providers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "access_keys",
                schema: "aignehub",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Prefix = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastUsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_access_keys", x => x.Id);
                    table.ForeignKey(
                        name: "FK_access_keys_users_UserId",
                        column: x => x.UserId,
                        principalSchema: "aignehub",
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "credit_accounts",
                schema: "aignehub",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    balance = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    reserved = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credit_accounts", x => x.user_id);
                    table.ForeignKey(
                        name: "FK_credit_accounts_users_user_id",
                        column: x => x.user_id,
                        principalSchema: "aignehub",
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "credit_grants",
                schema: "aignehub",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    amount = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    remaining = table.Column<decimal>(type: "numeric(30,10)", nullable: false),
                    category = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    source = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    note = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    expired_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_by = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credit_grants", x => x.id);
                    table.ForeignKey(
                        name: "FK_credit_grants_credit_accounts_user_id",
                        column: x => x.user_id,
                        principalSchema: "aignehub",
                        principalTable: "credit_accounts",
                        principalColumn: "user_id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_access_keys_Hash",
                schema: "aignehub",
                table: "access_keys",
                column: "Hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_access_keys_UserId",
                schema: "aignehub",
                table: "access_keys",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_ai_models_Model_Type",
                schema: "aignehub",
                table: "ai_models",
                columns: new[] { "Model", "Type" });

            migrationBuilder.CreateIndex(
                name: "IX_ai_models_ProviderId_Model_Type",
                schema: "aignehub",
                table: "ai_models",
                columns: new[] { "ProviderId", "Model", "Type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_apps_PublicKey",
                schema: "aignehub",
                table: "apps",
                column: "PublicKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_credit_grants_user_id_created_at",
                schema: "aignehub",
                table: "credit_grants",
                columns: new[] { "user_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_credit_grants_due",
                schema: "aignehub",
                table: "credit_grants",
                column: "expires_at",
                filter: "expired_at IS NULL AND expires_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_credit_grants_welcome",
                schema: "aignehub",
                table: "credit_grants",
                column: "user_id",
                unique: true,
                filter: "source = 'welcome'");

            migrationBuilder.CreateIndex(
                name: "IX_credit_ledger_model_call_id",
                schema: "aignehub",
                table: "credit_ledger",
                column: "model_call_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_credit_ledger_user_id_created_at",
                schema: "aignehub",
                table: "credit_ledger",
                columns: new[] { "user_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ux_credit_ledger_expiry",
                schema: "aignehub",
                table: "credit_ledger",
                column: "grant_id",
                unique: true,
                filter: "kind = 'expiry'");

            migrationBuilder.CreateIndex(
                name: "ix_meter_events_pending",
                schema: "aignehub",
                table: "meter_events",
                column: "next_attempt_at",
                filter: "delivered_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_model_calls_app_id_created_at",
                schema: "aignehub",
                table: "model_calls",
                columns: new[] { "app_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_model_calls_status_created_at",
                schema: "aignehub",
                table: "model_calls",
                columns: new[] { "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_model_calls_user_id_created_at",
                schema: "aignehub",
                table: "model_calls",
                columns: new[] { "user_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_model_rate_history_rate_id_changed_at",
                schema: "aignehub",
                table: "model_rate_history",
                columns: new[] { "rate_id", "changed_at" });

            migrationBuilder.CreateIndex(
                name: "IX_model_rates_provider_model_type",
                schema: "aignehub",
                table: "model_rates",
                columns: new[] { "provider", "model", "type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_provider_credentials_NextCheckAt",
                schema: "aignehub",
                table: "provider_credentials",
                column: "NextCheckAt",
                filter: "\"NextCheckAt\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_provider_credentials_ProviderId",
                schema: "aignehub",
                table: "provider_credentials",
                column: "ProviderId");

            migrationBuilder.CreateIndex(
                name: "IX_providers_Name",
                schema: "aignehub",
                table: "providers",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_usage_rollups_user_id_granularity_bucket_start",
                schema: "aignehub",
                table: "usage_rollups",
                columns: new[] { "user_id", "granularity", "bucket_start" });

            migrationBuilder.CreateIndex(
                name: "IX_users_Did",
                schema: "aignehub",
                table: "users",
                column: "Did",
                unique: true,
                filter: "\"Did\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_users_Email",
                schema: "aignehub",
                table: "users",
                column: "Email",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "access_keys",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "ai_models",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "app_subscriptions",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "credit_grants",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "credit_ledger",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "meter_events",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "model_calls",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "model_health",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "model_rate_history",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "model_rates",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "provider_credentials",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "usage_rollups",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "apps",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "credit_accounts",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "providers",
                schema: "aignehub");

            migrationBuilder.DropTable(
                name: "users",
                schema: "aignehub");
        }
    }
}
