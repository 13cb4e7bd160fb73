using System.Globalization;
using System.Security.Claims;
using System.Text;
using AigneHub.Api.Billing;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Usage;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Data.Identity;
using CsvHelper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Usage;

/// <summary>Filters shared by the call list, the export and the trends (query string).</summary>
/// <param name="UserEmail">The calling user's email (exact, case-insensitive); admins use it instead of a user id.</param>
/// <param name="AccessKeyId">Calls made with this access key.</param>
public sealed record UsageFilter(DateTimeOffset? From, DateTimeOffset? To, string? Status, string? Model, string? Type, string? Provider, string? AppId,
    string? UserEmail = null, Guid? AccessKeyId = null);

/// <summary>
/// My usage under <c>/api/v2</c> (quota, trends, calls, CSV export) and the same across users under
/// <c>/api/admin</c> (optionally narrowed by <c>userId</c>). Reads the raw calls, which retention keeps for
/// <c>AigneHub:Usage:RetentionDays</c>; trends older than that are served from the Worker's hourly rollups (the call
/// list and export have only the raw calls). Errors use the admin routes' common shape <c>{"error":{"message","type","param"}}</c>.
/// </summary>
public static class UsageApi
{
    public const int MaxPageSize = 200;
    public const int MaxExportRows = 10_000;

    /// <summary>The call log counts its matches up to this many; beyond, its total is a lower bound.</summary>
    public const int MaxCountedCalls = 10_000;

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v2").RequireAuthorization(AuthorizationPolicies.Inference).WithTags("Usage");
        mine.MapGet("/usage/quota", QuotaAsync).WithName("GetUsageQuota").WithSummary("Balance, reserved, 30-day daily average and estimated days left.");
        mine.MapGet("/usage/trends", (ClaimsPrincipal user, [AsParameters] UsageFilter filter, NpgsqlDataSource db, TimeProvider time, IConfiguration config, CancellationToken ct, string? granularity, int timezoneOffset = 0) =>
            TrendsAsync(db, time, RetentionDays(config), user.GetUserId(), filter, granularity, timezoneOffset, ct))
            .WithName("GetUsageTrends").WithSummary("My calls, tokens and credits per hour or day (timezoneOffset as JavaScript's getTimezoneOffset).");
        mine.MapGet("/model-calls", (ClaimsPrincipal user, [AsParameters] UsageFilter filter, AigneHubDbContext db, CancellationToken ct, int page = 1, int pageSize = 50) =>
            ListAsync(db, user.GetUserId(), filter, page, pageSize, ct, forMember: true))
            .WithName("ListModelCalls").WithSummary("My model calls, newest first (filters: from, to, status, model, type, provider, appId).");
        mine.MapGet("/model-calls/export", (ClaimsPrincipal user, [AsParameters] UsageFilter filter, AigneHubDbContext db, CancellationToken ct) =>
            Export(db, user.GetUserId(), filter, ct, forMember: true))
            .WithName("ExportModelCalls").WithSummary($"My model calls as CSV (at most {MaxExportRows} rows).");

        var admin = app.MapGroup("/api/admin").RequireAuthorization(AuthorizationPolicies.Admin).WithTags("Usage");
        admin.MapGet("/usage/trends", ([AsParameters] UsageFilter filter, NpgsqlDataSource db, TimeProvider time, IConfiguration config, CancellationToken ct, Guid? userId, string? granularity, int timezoneOffset = 0) =>
            TrendsAsync(db, time, RetentionDays(config), userId, filter, granularity, timezoneOffset, ct))
            .WithName("GetAdminUsageTrends").WithSummary("Usage trends across users (or one, with userId; one app, with appId).");
        admin.MapGet("/model-calls", ([AsParameters] UsageFilter filter, AigneHubDbContext db, CancellationToken ct, Guid? userId, int page = 1, int pageSize = 50) =>
            ListAsync(db, userId, filter, page, pageSize, ct))
            .WithName("ListAdminModelCalls").WithSummary("Model calls across users (or one, with userId).");
        admin.MapGet("/model-calls/export", ([AsParameters] UsageFilter filter, AigneHubDbContext db, CancellationToken ct, Guid? userId) =>
            Export(db, userId, filter, ct))
            .WithName("ExportAdminModelCalls").WithSummary($"Model calls across users as CSV (at most {MaxExportRows} rows).");
        return app;
    }

    private static async Task<Results<Ok<QuotaResponse>, UnauthorizedHttpResult>> QuotaAsync(
        ClaimsPrincipal user, CreditAccounts accounts, NpgsqlDataSource db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (user.GetUserId() is not { } userId)
        {
            return TypedResults.Unauthorized();
        }
        var balance = await accounts.GetAsync(userId, cancellationToken);
        await using var cmd = db.CreateCommand(
            $"SELECT coalesce(sum(credits), 0) FROM {AigneHubDbContext.Schema}.model_calls WHERE user_id = @u AND created_at >= @since AND status = 'success'");
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("u", userId));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("since", time.GetUtcNow().AddDays(-30)));
        var spent = (decimal)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        var daily = Math.Round(spent / 30m, CreditFormula.Decimals);
        double? daysLeft = daily > 0 ? Math.Round((double)(Math.Max(0, balance.Available) / daily), 1) : null;
        return TypedResults.Ok(new QuotaResponse(balance.Balance, balance.Reserved,
            balance.Available, daily, daysLeft, "credits"));
    }

    private static async Task<Results<Ok<TrendsResponse>, JsonHttpResult<ErrorEnvelope>>> TrendsAsync(
        NpgsqlDataSource db, TimeProvider time, int retentionDays, Guid? userId, UsageFilter filter, string? granularity, int timezoneOffset, CancellationToken cancellationToken)
    {
        var unit = (granularity ?? "day").ToLowerInvariant();
        Dictionary<string, string[]> errors = [];
        if (unit is not ("hour" or "day"))
        {
            errors["granularity"] = ["'granularity' must be 'hour' or 'day'."];
        }
        if (timezoneOffset is < -14 * 60 or > 14 * 60)
        {
            errors["timezoneOffset"] = ["'timezoneOffset' must be minutes between -840 and 840."];
        }
        var to = filter.To ?? time.GetUtcNow();
        var from = filter.From ?? to.AddDays(unit == "hour" ? -1 : -30);
        if (from >= to || to - from > TimeSpan.FromDays(unit == "hour" ? 31 : 366))
        {
            errors["from"] = [$"'from' must be before 'to', at most {(unit == "hour" ? 31 : 366)} days apart for {unit} buckets."];
        }
        ValidateFilter(filter, errors);
        if (errors.Count > 0)
        {
            return ApiErrors.BadRequest(errors);
        }

        // Raw calls serve the buckets from the first whole UTC day retention surely keeps; older ones come from
        // the Worker's hourly rollups (re-cut into the caller's local buckets), which outlive the raw calls.
        var cutoff = time.GetUtcNow().AddDays(-retentionDays).UtcDateTime;
        var split = new DateTimeOffset(cutoff.Date.AddDays(1), TimeSpan.Zero);
        if (from < split && filter.Status is { Length: > 0 })
        {
            return ApiErrors.BadRequest(new Dictionary<string, string[]> { ["status"] = [$"'status' cannot filter usage before {split:yyyy-MM-dd}: it is kept as hourly rollups, which do not keep it."] });
        }

        // The Worker's rollups serve every whole hour they surely cover — everything before the hour of their last
        // run (closed calls only: a call still processing there counts once it closes and the next run sees it) —
        // and everything older than retention; the raw calls serve the rest: the partial first hour and the time
        // since the last run. A status filter needs the raw calls (the rollups do not keep status), so there the
        // rollups serve only what retention took. Whole UTC days come from the daily rollups when the buckets are
        // UTC days, so a day of one model and user keeps its exact percentiles.
        var watermark = filter.Status is { Length: > 0 } ? null : await BillingSql.LastRollupAsync(db, cancellationToken);
        var range = TrendSources.Of(from, to, split, watermark, dailyRollups: unit == "day" && timezoneOffset == 0);

        // Local time = UTC − offset (JavaScript's convention); buckets are cut in local time and reported with it.
        await using var cmd = db.CreateCommand();
        cmd.Parameters.Add(new NpgsqlParameter<string>("unit", unit));
        cmd.Parameters.Add(new NpgsqlParameter<int>("offset", timezoneOffset));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("h0", range.Rollups.Start));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("h1", range.Rollups.End));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("d0", range.DailyRollups.Start));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("d1", range.DailyRollups.End));
        // The rollups have every filter column but status (a missing user or app kept as the empty value there).
        var shared = SqlFilters(cmd, ("user_id", userId), ("app_id", filter.AppId), ("model", filter.Model),
            ("type", filter.Type?.ToLowerInvariant()), ("provider", filter.Provider?.ToLowerInvariant()));
        var status = SqlFilters(cmd, ("status", filter.Status?.ToLowerInvariant()));
        var sql = new StringBuilder("WITH parts AS (\n");
        for (var i = 0; i < range.Raw.Count; i++)
        {
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>($"r{i}", range.Raw[i].Start));
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>($"s{i}", range.Raw[i].End));
            sql.Append(CultureInfo.InvariantCulture, $"""
                SELECT date_trunc(@unit, (created_at AT TIME ZONE 'UTC') - make_interval(mins => @offset)) AS bucket,
                       count(*) AS calls, count(*) FILTER (WHERE status = 'success') AS successes,
                       coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion,
                       coalesce(sum(credits), 0) AS credits, sum(duration_ms) AS duration_sum, count(duration_ms) AS durations,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY gateway_ttfb_ms) AS p50,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY gateway_ttfb_ms) AS p95, 1 AS sources
                FROM {AigneHubDbContext.Schema}.model_calls
                WHERE created_at >= @r{i} AND created_at < @s{i}{shared}{status}
                 GROUP BY 1
                UNION ALL

                """);
        }
        foreach (var (rollup, where) in new[]
        {
            ("hour", "bucket_start >= @h0 AND bucket_start < @h1 AND NOT (bucket_start >= @d0 AND bucket_start < @d1)"),
            ("day", "bucket_start >= @d0 AND bucket_start < @d1"),
        })
        {
            sql.Append(CultureInfo.InvariantCulture, $"""
                SELECT date_trunc(@unit, (bucket_start AT TIME ZONE 'UTC') - make_interval(mins => @offset)) AS bucket,
                       sum(calls) AS calls, sum(successes) AS successes, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion,
                       sum(credits) AS credits, sum(duration_ms_sum) AS duration_sum, sum(calls) AS durations,
                       max(ttfb_p50_ms) AS p50, max(ttfb_p95_ms) AS p95, count(*) AS sources
                FROM {AigneHubDbContext.Schema}.usage_rollups
                WHERE granularity = '{rollup}' AND {where}{shared}
                 GROUP BY 1

                """);
            if (rollup == "hour")
            {
                sql.Append("UNION ALL\n");
            }
        }
        // Percentiles do not add up: a bucket made of one part keeps its own, a merged one reports none.
        sql.Append("""
            )
            SELECT bucket, sum(calls)::bigint, sum(successes)::bigint, sum(prompt)::bigint, sum(completion)::bigint, sum(credits),
                   (sum(duration_sum) / nullif(sum(durations), 0))::float8,
                   CASE WHEN sum(sources) = 1 THEN max(p50) END, CASE WHEN sum(sources) = 1 THEN max(p95) END
            FROM parts GROUP BY 1 ORDER BY 1
            """);
        cmd.CommandText = sql.ToString();

        var offset = TimeSpan.FromMinutes(-timezoneOffset);
        List<TrendBucket> buckets = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var local = DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Unspecified);
            buckets.Add(new TrendBucket(new DateTimeOffset(local, offset), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                reader.GetDecimal(5), Nullable(reader, 6), Nullable(reader, 7), Nullable(reader, 8)));
        }
        return TypedResults.Ok(new TrendsResponse(unit, timezoneOffset, buckets));

        static double? Nullable(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Math.Round(r.GetDouble(i), 1);
    }

    private static async Task<Results<Ok<PagedResponse<ModelCallResponse>>, JsonHttpResult<ErrorEnvelope>>> ListAsync(
        AigneHubDbContext db, Guid? userId, UsageFilter filter, int page, int pageSize, CancellationToken cancellationToken, bool forMember = false)
    {
        Dictionary<string, string[]> errors = [];
        if (page < 1)
        {
            errors["page"] = ["'page' must be 1 or more."];
        }
        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"'pageSize' must be between 1 and {MaxPageSize}."];
        }
        ValidateFilter(filter, errors);
        if (errors.Count > 0)
        {
            return ApiErrors.BadRequest(errors);
        }
        var query = Query(db, userId, filter);
        // Counting stops past MaxCountedCalls (a count of millions of rows would cost more than the page itself).
        var counted = await query.Take(MaxCountedCalls + 1).LongCountAsync(cancellationToken);
        var rows = await WithNames(db, query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Skip((page - 1) * pageSize).Take(pageSize))
            .OrderByDescending(r => r.Call.CreatedAt).ThenByDescending(r => r.Call.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<ModelCallResponse>(rows.Select(r => ToResponse(r, forMember)).ToList(), page, pageSize,
            Math.Min(counted, MaxCountedCalls), TotalIsLowerBound: counted > MaxCountedCalls));
    }

    /// <summary>The export's columns, in order; <see cref="WriteCsvAsync"/> writes a field for each.</summary>
    private static readonly string[] ExportColumns =
    [
        "id", "created_at", "completed_at", "status", "provider", "model", "requested_model", "type", "user_id", "user_email", "app_id",
        "access_key_id", "access_key_name", "prompt_tokens", "completion_tokens", "cache_creation_tokens", "cache_read_tokens", "images",
        "credits", "estimated", "duration_ms", "gateway_ttfb_ms", "status_code", "error_reason", "request_id", "trace_id",
        // The units audio and video calls are charged by (speech per character, transcription per second heard,
        // video per second delivered), after the original columns so that readers by position keep working.
        "characters", "audio_seconds", "video_seconds",
    ];

    /// <summary>RFC 4180 quoting with LF line ends; a text cell that a spreadsheet would run as a formula (it starts
    /// with = + - @, TAB or CR) gets a leading <c>'</c> and quotes. Numbers, dates and booleans are never touched.</summary>
    private static readonly CsvWriterOptions ExportCsv = CsvWriterOptions.Default with
    {
        NewLine = "\n",
        Injection = CsvInjection.Escape,
        TrueValue = "true",
        FalseValue = "false",
    };

    /// <summary>The calls stream from the database reader to the response as they are read, newest first.</summary>
    private static Results<PushStreamHttpResult, JsonHttpResult<ErrorEnvelope>> Export(
        AigneHubDbContext db, Guid? userId, UsageFilter filter, CancellationToken cancellationToken, bool forMember = false)
    {
        Dictionary<string, string[]> errors = [];
        ValidateFilter(filter, errors);
        if (errors.Count > 0)
        {
            return ApiErrors.BadRequest(errors);
        }
        var rows = WithNames(db, Query(db, userId, filter).OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Take(MaxExportRows))
            .OrderByDescending(r => r.Call.CreatedAt).ThenByDescending(r => r.Call.Id).AsAsyncEnumerable();
        return TypedResults.Stream(body => WriteCsvAsync(body, rows, forMember, cancellationToken), "text/csv; charset=utf-8", "model-calls.csv");
    }

    private static async Task WriteCsvAsync(Stream body, IAsyncEnumerable<NamedCall> rows, bool forMember, CancellationToken cancellationToken)
    {
        await using var csv = CsvWriter.Create(body, ExportCsv, leaveOpen: true);
        csv.WriteHeader(ExportColumns);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var c = row.Call;
            csv.WriteField(c.Id);
            csv.WriteField(c.CreatedAt.ToUniversalTime());
            csv.WriteField(c.CompletedAt?.ToUniversalTime());
            csv.WriteField(BillingModel.Word(c.Status));
            csv.WriteField(c.Provider);
            csv.WriteField(c.Model);
            csv.WriteField(c.RequestedModel);
            csv.WriteField(BillingModel.Word(c.Type));
            csv.WriteField(c.UserId);
            csv.WriteField(row.UserEmail);
            csv.WriteField(c.AppId);
            csv.WriteField(c.AccessKeyId);
            csv.WriteField(row.KeyName);
            csv.WriteField(c.PromptTokens);
            csv.WriteField(c.CompletionTokens);
            csv.WriteField(c.CacheCreationTokens);
            csv.WriteField(c.CacheReadTokens);
            csv.WriteField(c.Images);
            csv.WriteField(BillingModel.Format(c.Credits));
            csv.WriteField(c.Estimated);
            csv.WriteField(c.DurationMs);
            csv.WriteField(c.GatewayTtfbMs);
            csv.WriteField(c.StatusCode);
            csv.WriteField(ErrorReason(c, forMember));
            csv.WriteField(c.RequestId);
            csv.WriteField(c.TraceId);
            csv.WriteField(c.Characters);
            csv.WriteField(c.AudioSeconds is { } heard ? BillingModel.Format(heard) : null);
            csv.WriteField(c.VideoSeconds is { } shown ? BillingModel.Format(shown) : null);
            await csv.EndRecordAsync(cancellationToken);
        }
    }

    /// <summary>A call with the names an operator reads it by: its user's email and its access key's name.</summary>
    /// <remarks>Init properties, not a positional record: EF translates ordering on a member-initialised projection.</remarks>
    internal sealed class NamedCall
    {
        public required ModelCall Call { get; init; }

        public string? UserEmail { get; init; }

        public string? KeyName { get; init; }
    }

    /// <summary>What a sign-in session is called where a key name would be: the Admin's pages (the Playground) use one.</summary>
    public const string SessionKeyName = "sign-in session (Admin, Playground)";

    /// <summary>Left joins in SQL, so the list and the streamed export read each name with its call.</summary>
    internal static IQueryable<NamedCall> WithNames(AigneHubDbContext db, IQueryable<ModelCall> calls) =>
        from c in calls
        join k in db.Set<AccessKey>() on c.AccessKeyId equals (Guid?)k.Id into keys
        from k in keys.DefaultIfEmpty()
        join u in db.Set<User>() on c.UserId equals (Guid?)u.Id into users
        from u in users.DefaultIfEmpty()
        select new NamedCall
        {
            Call = c,
            UserEmail = u == null ? null : u.Email,
            KeyName = k == null ? null : k.Kind == AccessKeyKind.Session ? SessionKeyName : k.Name ?? k.Prefix,
        };

    internal static IQueryable<ModelCall> Query(AigneHubDbContext db, Guid? userId, UsageFilter filter)
    {
        var query = db.Set<ModelCall>().AsNoTracking();
        if (userId is { } u)
        {
            query = query.Where(c => c.UserId == u);
        }
        if (filter.From is { } from)
        {
            var f = from.ToUniversalTime();
            query = query.Where(c => c.CreatedAt >= f);
        }
        if (filter.To is { } to)
        {
            var t = to.ToUniversalTime();
            query = query.Where(c => c.CreatedAt < t);
        }
        if (filter.Status is { } status)
        {
            var s = BillingModel.Parse<ModelCallStatus>(status);
            query = query.Where(c => c.Status == s);
        }
        if (filter.Type is { } type)
        {
            var t = BillingModel.Parse<ModelType>(type);
            query = query.Where(c => c.Type == t);
        }
        if (!string.IsNullOrEmpty(filter.Model))
        {
            query = query.Where(c => c.Model == filter.Model || c.RequestedModel == filter.Model);
        }
        if (!string.IsNullOrEmpty(filter.Provider))
        {
            var p = filter.Provider.ToLowerInvariant();
            query = query.Where(c => c.Provider == p);
        }
        if (!string.IsNullOrEmpty(filter.AppId))
        {
            query = query.Where(c => c.AppId == filter.AppId);
        }
        if (!string.IsNullOrWhiteSpace(filter.UserEmail))
        {
            var email = filter.UserEmail.Trim().ToLowerInvariant();
            query = query.Where(c => db.Set<User>().Any(u => u.Id == c.UserId && u.Email == email));
        }
        if (filter.AccessKeyId is { } keyId)
        {
            query = query.Where(c => c.AccessKeyId == keyId);
        }
        return query;
    }

    internal static void ValidateFilter(UsageFilter filter, Dictionary<string, string[]> errors)
    {
        if (filter.Status is { } s && !(Enum.TryParse<ModelCallStatus>(s, true, out var status) && Enum.IsDefined(status) && !int.TryParse(s, out _)))
        {
            errors["status"] = ["'status' must be processing, success or failed."];
        }
        if (filter.Type is { } t && !(Enum.TryParse<ModelType>(t, true, out var type) && Enum.IsDefined(type) && !int.TryParse(t, out _)))
        {
            errors["type"] = ["'type' must be chat, embedding, image, video or audio."];
        }
    }

    /// <summary>How long the Worker keeps raw calls (<c>AigneHub:Usage:RetentionDays</c>, read the same way there).</summary>
    private static int RetentionDays(IConfiguration config) => config.GetValue("AigneHub:Usage:RetentionDays", UsageRollup.DefaultRetentionDays);

    /// <summary>The <c> AND column = @f_column</c> conditions of the given filters, each parameter added once (the
    /// trends apply the same conditions to the raw calls and to the rollups).</summary>
    private static string SqlFilters(NpgsqlCommand cmd, params (string Column, object? Value)[] filters)
    {
        var sql = new StringBuilder();
        foreach (var (column, value) in filters)
        {
            if (value is null or "")
            {
                continue;
            }
            var name = "f_" + column;
            sql.Append(CultureInfo.InvariantCulture, $" AND {column} = @{name}");
            cmd.Parameters.AddWithValue(name, value);
        }
        return sql.ToString();
    }

    /// <summary>Members see their own calls' errors without provider hosts or URLs; admins see the full text.</summary>
    private static string? ErrorReason(ModelCall c, bool forMember) =>
        forMember && c.ErrorReason is { } reason ? CallerErrorText.Sanitize(reason) : c.ErrorReason;

    private static ModelCallResponse ToResponse(NamedCall row, bool forMember)
    {
        var c = row.Call;
        return new(
            c.Id, c.UserId, c.AppId, BillingModel.Word(c.Surface), c.Provider, c.Model, c.RequestedModel, BillingModel.Word(c.Type), BillingModel.Word(c.Status),
            c.PromptTokens, c.CompletionTokens, c.CacheCreationTokens, c.CacheReadTokens, c.Images, c.ImageSize, c.ImageQuality,
            c.Credits, c.Estimated, c.DurationMs, c.GatewayTtfbMs, c.ProviderTtfbMs, c.Attempts, ErrorReason(c, forMember),
            c.RequestId, c.TraceId, c.CreatedAt, c.CompletedAt, row.UserEmail, c.AccessKeyId, row.KeyName, c.StatusCode,
            c.Characters, c.AudioSeconds, c.VideoSeconds);
    }
}
