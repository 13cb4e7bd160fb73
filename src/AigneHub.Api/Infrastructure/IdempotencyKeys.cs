using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Identity;
using Npgsql;

namespace AigneHub.Api.Infrastructure;

/// <summary>
/// <c>Idempotency-Key</c> on state-changing admin routes, with Stripe's semantics: the first request with a key runs
/// and, if it succeeded, its answer is kept (24 hours; a refusal keeps nothing, so the key may be used again); a repeat with the same key, method, path and body gets that answer again
/// (<c>Idempotent-Replayed: true</c>) and changes nothing; the same key with another body is a 422; a repeat while
/// the first is still running is a 409. Keys are scoped to the caller (a key id, else the user), so two admins'
/// keys never collide. Requests without the header run as before. The stored answers are deleted by the Worker's
/// retention job once a day old.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";

    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>How long an answer is replayed; the Worker deletes older ones.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private const int MaxKeyLength = 255;

    private const string S = AigneHub.Data.AigneHubDbContext.Schema;

    /// <summary>Makes the endpoint honour <c>Idempotency-Key</c>.</summary>
    public static RouteHandlerBuilder WithIdempotencyKeys(this RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!http.Request.Headers.TryGetValue(Header, out var values))
            {
                return await next(context);
            }
            var key = values.ToString();
            if (values.Count != 1 || key.Length is 0 or > MaxKeyLength || key.Any(c => c is < '!' or > '~'))
            {
                return ApiErrors.BadRequest($"The {Header} header must be 1 to {MaxKeyLength} printable ASCII characters.", Header);
            }
            var database = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
            var time = http.RequestServices.GetRequiredService<TimeProvider>();
            var scope = Scope(http);
            var hash = await HashAsync(http.Request);
            var now = time.GetUtcNow();

            if (!await ClaimAsync(database, scope, key, hash, now, http.RequestAborted))
            {
                return await ReplayAsync(database, scope, key, hash, http.RequestAborted);
            }

            // The first request with this key: run it, keep what it answered.
            var original = http.Response.Body;
            using var captured = new MemoryStream();
            http.Response.Body = captured;
            try
            {
                var result = await next(context);
                if (result is IResult executable)
                {
                    await executable.ExecuteAsync(http);
                }
                if (http.Response.StatusCode is >= 200 and < 300)
                {
                    await StoreAsync(database, scope, key, http.Response, captured, CancellationToken.None);
                }
                else
                {
                    // Refused (bad body, unknown user): nothing happened, so nothing is kept and the key stays free.
                    await ForgetAsync(database, scope, key);
                }
            }
            catch
            {
                // Nothing was kept: the same key may be tried again.
                await ForgetAsync(database, scope, key);
                throw;
            }
            finally
            {
                http.Response.Body = original;
            }
            captured.Position = 0;
            await captured.CopyToAsync(original, http.RequestAborted);
            return Results.Empty;
        });

    private static string Scope(HttpContext http)
    {
        var caller = http.User.GetAccessKeyId()?.ToString() ?? http.User.GetUserId()?.ToString() ?? "anonymous";
        return $"{caller} {http.Request.Method} {http.Request.Path}";
    }

    private static async Task<byte[]> HashAsync(HttpRequest request)
    {
        request.EnableBuffering(JsonBody.MaxBytes);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n"));
        var buffer = new byte[8192];
        int read;
        long total = 0;
        while (total <= JsonBody.MaxBytes && (read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }
        request.Body.Position = 0;
        return sha.GetHashAndReset();
    }

    /// <summary>Inserts the in-progress row; false when the key is taken (by a live row: expired ones are replaced).</summary>
    private static async Task<bool> ClaimAsync(NpgsqlDataSource db, string scope, string key, byte[] hash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"""
            INSERT INTO {S}.idempotent_requests (scope, key, request_hash, created_at) VALUES (@scope, @key, @hash, @now)
            ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, created_at = excluded.created_at,
                status_code = NULL, content_type = NULL, location = NULL, response_body = NULL
            WHERE idempotent_requests.created_at < @expired
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string>("scope", scope));
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", key));
        cmd.Parameters.Add(new NpgsqlParameter<byte[]>("hash", hash));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("expired", now - Lifetime));
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task<IResult> ReplayAsync(NpgsqlDataSource db, string scope, string key, byte[] hash, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"SELECT request_hash, status_code, content_type, location, response_body FROM {S}.idempotent_requests WHERE scope = @scope AND key = @key");
        cmd.Parameters.Add(new NpgsqlParameter<string>("scope", scope));
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", key));
        await using var row = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await row.ReadAsync(cancellationToken))
        {
            // The first request failed and gave its key back between our insert and this read.
            return ApiErrors.Result(409, "A request with this Idempotency-Key was just retried; send it again.", "idempotency_error", Header);
        }
        if (!row.GetFieldValue<byte[]>(0).AsSpan().SequenceEqual(hash))
        {
            return ApiErrors.Result(422, "This Idempotency-Key was already used with a different request.", "idempotency_error", Header);
        }
        if (await row.IsDBNullAsync(1, cancellationToken))
        {
            return ApiErrors.Result(409, "A request with this Idempotency-Key is still being processed.", "idempotency_error", Header);
        }
        return new Replay(row.GetInt32(1), row.IsDBNull(2) ? null : row.GetString(2), row.IsDBNull(3) ? null : row.GetString(3), row.IsDBNull(4) ? "" : row.GetString(4));
    }

    private static async Task StoreAsync(NpgsqlDataSource db, string scope, string key, HttpResponse response, MemoryStream body, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"""
            UPDATE {S}.idempotent_requests SET status_code = @status, content_type = @type, location = @location, response_body = @body
            WHERE scope = @scope AND key = @key
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string>("scope", scope));
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", key));
        cmd.Parameters.Add(new NpgsqlParameter<int>("status", response.StatusCode));
        cmd.Parameters.Add(new NpgsqlParameter("type", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = (object?)response.ContentType ?? DBNull.Value });
        var location = response.Headers.Location.ToString();
        cmd.Parameters.Add(new NpgsqlParameter("location", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = location.Length > 0 ? location : DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter<string>("body", Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length)));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ForgetAsync(NpgsqlDataSource db, string scope, string key)
    {
        await using var cmd = db.CreateCommand($"DELETE FROM {S}.idempotent_requests WHERE scope = @scope AND key = @key AND status_code IS NULL");
        cmd.Parameters.Add(new NpgsqlParameter<string>("scope", scope));
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", key));
        await cmd.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>The first answer, as it was sent.</summary>
    private sealed class Replay(int status, string? contentType, string? location, string body) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.Headers[ReplayedHeader] = "true";
            if (location is not null)
            {
                context.Response.Headers.Location = location;
            }
            if (contentType is not null)
            {
                context.Response.ContentType = contentType;
            }
            await context.Response.WriteAsync(body, context.RequestAborted);
        }
    }
}
