using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AigneHub.Data.Migrations
{
    /// <summary>
    /// One naming convention for the whole schema (EFCore.NamingConventions' snake_case): the PascalCase columns of
    /// the identity and gateway tables, and every primary key, foreign key and index that EF had named, are renamed
    /// in place. Renames only (EF's own diff drops and re-adds keys, foreign keys, two filtered indexes and the weight
    /// check): no row is copied, no index rebuilt, nothing lost. The index filters and the weight check follow the
    /// renamed columns by themselves, because Postgres stores them by column number, not by name.
    /// </summary>
    public partial class SnakeCaseNames : Migration
    {
        private const string Schema = "aignehub";

        private static readonly (string Table, string Old, string New)[] Columns =
        [
            ("access_keys", "CreatedAt", "created_at"),
            ("access_keys", "ExpiresAt", "expires_at"),
            ("access_keys", "Hash", "hash"),
            ("access_keys", "Id", "id"),
            ("access_keys", "Kind", "kind"),
            ("access_keys", "LastUsedAt", "last_used_at"),
            ("access_keys", "Name", "name"),
            ("access_keys", "Prefix", "prefix"),
            ("access_keys", "RevokedAt", "revoked_at"),
            ("access_keys", "UserId", "user_id"),
            ("ai_models", "CreatedAt", "created_at"),
            ("ai_models", "DisplayName", "display_name"),
            ("ai_models", "Enabled", "enabled"),
            ("ai_models", "Id", "id"),
            ("ai_models", "Metadata", "metadata"),
            ("ai_models", "Model", "model"),
            ("ai_models", "ProviderId", "provider_id"),
            ("ai_models", "Type", "type"),
            ("app_subscriptions", "AppId", "app_id"),
            ("app_subscriptions", "CurrentPeriodEnd", "current_period_end"),
            ("app_subscriptions", "Status", "status"),
            ("app_subscriptions", "UpdatedAt", "updated_at"),
            ("apps", "CreatedAt", "created_at"),
            ("apps", "Id", "id"),
            ("apps", "Name", "name"),
            ("apps", "PublicKey", "public_key"),
            ("model_health", "Available", "available"),
            ("model_health", "ChangedAt", "changed_at"),
            ("model_health", "CheckedAt", "checked_at"),
            ("model_health", "ErrorClass", "error_class"),
            ("model_health", "LastError", "last_error"),
            ("model_health", "Model", "model"),
            ("model_health", "ProviderName", "provider_name"),
            ("model_health", "ResponseTimeMs", "response_time_ms"),
            ("model_health", "Type", "type"),
            ("provider_credentials", "CreatedAt", "created_at"),
            ("provider_credentials", "EncryptedValue", "encrypted_value"),
            ("provider_credentials", "FailedChecks", "failed_checks"),
            ("provider_credentials", "Id", "id"),
            ("provider_credentials", "LastError", "last_error"),
            ("provider_credentials", "LastErrorAt", "last_error_at"),
            ("provider_credentials", "LastUsedAt", "last_used_at"),
            ("provider_credentials", "MaskedValue", "masked_value"),
            ("provider_credentials", "Name", "name"),
            ("provider_credentials", "NextCheckAt", "next_check_at"),
            ("provider_credentials", "ProviderId", "provider_id"),
            ("provider_credentials", "Status", "status"),
            ("provider_credentials", "UpdatedAt", "updated_at"),
            ("provider_credentials", "Weight", "weight"),
            ("providers", "BaseUrl", "base_url"),
            ("providers", "CreatedAt", "created_at"),
            ("providers", "DisplayName", "display_name"),
            ("providers", "Enabled", "enabled"),
            ("providers", "Id", "id"),
            ("providers", "Name", "name"),
            ("providers", "UpdatedAt", "updated_at"),
            ("users", "CreatedAt", "created_at"),
            ("users", "Did", "did"),
            ("users", "Disabled", "disabled"),
            ("users", "DisplayName", "display_name"),
            ("users", "Email", "email"),
            ("users", "Id", "id"),
            ("users", "LastSeenAt", "last_seen_at"),
            ("users", "PasswordHash", "password_hash"),
            ("users", "Role", "role"),
        ];

        private static readonly (string Table, string Old, string New)[] Indexes =
        [
            ("access_keys", "IX_access_keys_Hash", "ix_access_keys_hash"),
            ("access_keys", "IX_access_keys_UserId", "ix_access_keys_user_id"),
            ("ai_models", "IX_ai_models_Model_Type", "ix_ai_models_model_type"),
            ("ai_models", "IX_ai_models_ProviderId_Model_Type", "ix_ai_models_provider_id_model_type"),
            ("apps", "IX_apps_PublicKey", "ix_apps_public_key"),
            ("credit_grants", "IX_credit_grants_user_id_created_at", "ix_credit_grants_user_id_created_at"),
            ("credit_ledger", "IX_credit_ledger_model_call_id", "ix_credit_ledger_model_call_id"),
            ("credit_ledger", "IX_credit_ledger_user_id_created_at", "ix_credit_ledger_user_id_created_at"),
            ("model_calls", "IX_model_calls_app_id_created_at", "ix_model_calls_app_id_created_at"),
            ("model_calls", "IX_model_calls_status_created_at", "ix_model_calls_status_created_at"),
            ("model_calls", "IX_model_calls_user_id_created_at", "ix_model_calls_user_id_created_at"),
            ("model_rate_history", "IX_model_rate_history_rate_id_changed_at", "ix_model_rate_history_rate_id_changed_at"),
            ("model_rates", "IX_model_rates_provider_model_type", "ix_model_rates_provider_model_type"),
            ("provider_credentials", "IX_provider_credentials_NextCheckAt", "ix_provider_credentials_next_check_at"),
            ("provider_credentials", "IX_provider_credentials_ProviderId", "ix_provider_credentials_provider_id"),
            ("providers", "IX_providers_Name", "ix_providers_name"),
            ("usage_rollups", "IX_usage_rollups_user_id_granularity_bucket_start", "ix_usage_rollups_user_id_granularity_bucket_start"),
            ("users", "IX_users_Did", "ix_users_did"),
            ("users", "IX_users_Email", "ix_users_email"),
        ];

        /// <summary>Primary and foreign keys: EF has no rename for them, Postgres has (a primary key's index follows).</summary>
        private static readonly (string Table, string Old, string New)[] Constraints =
        [
            ("access_keys", "FK_access_keys_users_UserId", "fk_access_keys_users_user_id"),
            ("access_keys", "PK_access_keys", "pk_access_keys"),
            ("ai_models", "FK_ai_models_providers_ProviderId", "fk_ai_models_provider_provider_id"),
            ("ai_models", "PK_ai_models", "pk_ai_models"),
            ("app_subscriptions", "FK_app_subscriptions_apps_AppId", "fk_app_subscriptions_apps_app_id"),
            ("app_subscriptions", "PK_app_subscriptions", "pk_app_subscriptions"),
            ("apps", "PK_apps", "pk_apps"),
            ("credit_accounts", "FK_credit_accounts_users_user_id", "fk_credit_accounts_users_user_id"),
            ("credit_accounts", "PK_credit_accounts", "pk_credit_accounts"),
            ("credit_grants", "FK_credit_grants_credit_accounts_user_id", "fk_credit_grants_credit_accounts_user_id"),
            ("credit_grants", "PK_credit_grants", "pk_credit_grants"),
            ("credit_ledger", "PK_credit_ledger", "pk_credit_ledger"),
            ("meter_events", "PK_meter_events", "pk_meter_events"),
            ("model_calls", "PK_model_calls", "pk_model_calls"),
            ("model_health", "PK_model_health", "pk_model_health"),
            ("model_rate_history", "PK_model_rate_history", "pk_model_rate_history"),
            ("model_rates", "PK_model_rates", "pk_model_rates"),
            ("provider_credentials", "FK_provider_credentials_providers_ProviderId", "fk_provider_credentials_providers_provider_id"),
            ("provider_credentials", "PK_provider_credentials", "pk_provider_credentials"),
            ("providers", "PK_providers", "pk_providers"),
            ("usage_rollups", "PK_usage_rollups", "pk_usage_rollups"),
            ("users", "PK_users", "pk_users"),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, old, name) in Columns)
            {
                migrationBuilder.RenameColumn(old, table, name, Schema);
            }
            foreach (var (table, old, name) in Indexes)
            {
                migrationBuilder.RenameIndex(old, name, table, Schema);
            }
            foreach (var (table, old, name) in Constraints)
            {
                migrationBuilder.Sql($"ALTER TABLE {Schema}.{table} RENAME CONSTRAINT \"{old}\" TO \"{name}\";");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, old, name) in Constraints)
            {
                migrationBuilder.Sql($"ALTER TABLE {Schema}.{table} RENAME CONSTRAINT \"{name}\" TO \"{old}\";");
            }
            foreach (var (table, old, name) in Indexes)
            {
                migrationBuilder.RenameIndex(name, old, table, Schema);
            }
            foreach (var (table, old, name) in Columns)
            {
                migrationBuilder.RenameColumn(name, table, old, Schema);
            }
        }
    }
}
