using System.Text.Json.Nodes;
using AigneHub.Data;
using Npgsql;
using NpgsqlTypes;

namespace AigneHub.Api.Gateway.Protocols.Responses;

/// <summary>
/// Stored Responses (<c>aignehub.stored_responses</c>), always read and written for one user: another user's
/// response is indistinguishable from one that does not exist. A row belongs to its call record and is deleted with
/// it (retention), so nothing here expires rows.
/// </summary>
public sealed partial class ResponseStore(NpgsqlDataSource database, TimeProvider time, ILogger<ResponseStore> logger)
{
    private const string S = AigneHubDbContext.Schema;

    /// <summary>Deep enough for any agent session; a bound so that a corrupted chain cannot recurse without end.</summary>
    private const int MaxChain = 10_000;

    private static readonly string InsertSql = $"""
        INSERT INTO {S}.stored_responses (id, call_id, user_id, previous_response_id, input, response, created_at)
        VALUES (@id, @call, @user, @previous, @input, @response, @now)
        ON CONFLICT (id) DO NOTHING
        """;

    // Newest first while walking back; the conversation is read oldest first.
    private static readonly string ChainSql = $"""
        WITH RECURSIVE chain AS (
            SELECT id, previous_response_id, input, response, 0 AS depth
            FROM {S}.stored_responses WHERE id = @id AND user_id = @user
            UNION ALL
            SELECT s.id, s.previous_response_id, s.input, s.response, c.depth + 1
            FROM {S}.stored_responses s JOIN chain c ON s.id = c.previous_response_id
            WHERE s.user_id = @user AND c.depth < {MaxChain})
        SELECT input::text, (response -> 'output')::text FROM chain ORDER BY depth DESC
        """;

    private static readonly string ResponseSql = $"SELECT response::text FROM {S}.stored_responses WHERE id = @id AND user_id = @user";

    private static readonly string InputSql = $"SELECT input::text FROM {S}.stored_responses WHERE id = @id AND user_id = @user";

    private static readonly string DeleteSql = $"DELETE FROM {S}.stored_responses WHERE id = @id AND user_id = @user";

    /// <summary>
    /// Keeps a response. A failure is logged, not thrown: the caller's answer is already made and must still reach
    /// it (only a later <c>previous_response_id</c> to this one will miss).
    /// </summary>
    public async Task SaveAsync(Guid callId, Guid userId, string? previousResponseId, JsonArray input, JsonObject response, CancellationToken cancellationToken)
    {
        if (response["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var id) || id.Length is 0 or > 128)
        {
            Log.NotStored(logger, null, "(no usable id)");
            return;
        }
        try
        {
            await using var cmd = database.CreateCommand(InsertSql);
            cmd.Parameters.Add(new NpgsqlParameter<string>("id", id));
            cmd.Parameters.Add(new NpgsqlParameter<Guid>("call", callId));
            cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
            cmd.Parameters.Add(new NpgsqlParameter("previous", NpgsqlDbType.Varchar) { Value = (object?)previousResponseId ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("input", NpgsqlDbType.Json) { Value = input.ToJsonString() });
            cmd.Parameters.Add(new NpgsqlParameter("response", NpgsqlDbType.Json) { Value = response.ToJsonString() });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", time.GetUtcNow()));
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            Log.NotStored(logger, ex, id);
        }
    }

    /// <summary>
    /// The conversation a new request continues from <paramref name="id"/>: every input and output item of the chain
    /// ending in it, oldest first; null when the user has no such response.
    /// </summary>
    public async Task<JsonArray?> ConversationAsync(Guid userId, string id, CancellationToken cancellationToken)
    {
        await using var cmd = database.CreateCommand(ChainSql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("id", id));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        JsonArray? items = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            items ??= [];
            Append(items, reader.GetString(0));
            if (!await reader.IsDBNullAsync(1, cancellationToken))
            {
                Append(items, reader.GetString(1));
            }
        }
        return items;
    }

    /// <summary>The stored response object as JSON text, or null.</summary>
    public Task<string?> ResponseAsync(Guid userId, string id, CancellationToken cancellationToken) => ScalarAsync(ResponseSql, userId, id, cancellationToken);

    /// <summary>The response's own input items as a JSON array, or null.</summary>
    public async Task<JsonArray?> InputAsync(Guid userId, string id, CancellationToken cancellationToken) =>
        await ScalarAsync(InputSql, userId, id, cancellationToken) is { } text ? JsonNode.Parse(text) as JsonArray : null;

    public async Task<bool> DeleteAsync(Guid userId, string id, CancellationToken cancellationToken)
    {
        await using var cmd = database.CreateCommand(DeleteSql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("id", id));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task<string?> ScalarAsync(string sql, Guid userId, string id, CancellationToken cancellationToken)
    {
        await using var cmd = database.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("id", id));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static void Append(JsonArray items, string json)
    {
        if (JsonNode.Parse(json) is JsonArray stored)
        {
            foreach (var item in stored.ToArray())
            {
                stored.Remove(item);
                items.Add(item);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Response {ResponseId} could not be stored; previous_response_id to it will not be found.")]
        public static partial void NotStored(ILogger logger, Exception? exception, string responseId);
    }
}
