using Npgsql;
using NpgsqlTypes;

namespace AigneHub.Data.Billing;

/// <summary>A call to make durable as <c>processing</c> (see <see cref="BillingSql.StartCallAsync"/>).</summary>
public sealed record StartCallCommand
{
    public required Guid Id { get; init; }
    public Guid? UserId { get; init; }
    public string? AppId { get; init; }
    public Guid? AccessKeyId { get; init; }
    public required CallSurface Surface { get; init; }
    public string? Provider { get; init; }
    public string? Model { get; init; }
    public required string RequestedModel { get; init; }
    public required ModelType Type { get; init; }
    public int Images { get; init; }
    public string? ImageSize { get; init; }
    public string? ImageQuality { get; init; }
    /// <summary>Model parameters as JSON text.</summary>
    public string? Parameters { get; init; }
    /// <summary>Worst-case credits to hold; null means no credit gate (billing off, v1).</summary>
    public decimal? Reserve { get; init; }
    public bool Billed { get; init; }
    public string? RequestId { get; init; }
    public string? TraceId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>How a call ended (see <see cref="BillingSql.SettleCallAsync"/>).</summary>
public sealed record SettleCallCommand
{
    public required Guid Id { get; init; }
    public required ModelCallStatus Status { get; init; }
    public string? Provider { get; init; }
    public string? Model { get; init; }
    public Guid? CredentialId { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public int CacheCreationTokens { get; init; }
    public int CacheReadTokens { get; init; }
    public int Images { get; init; }
    public decimal? VideoSeconds { get; init; }
    public int Characters { get; init; }
    public decimal? AudioSeconds { get; init; }
    /// <summary>The cost; debited (ledger + meter event) only when the call is billed and this is positive.</summary>
    public decimal Credits { get; init; }
    public bool Estimated { get; init; }
    public int? DurationMs { get; init; }
    public int? GatewayTtfbMs { get; init; }
    public int? ProviderTtfbMs { get; init; }
    public int Attempts { get; init; }
    public int? StatusCode { get; init; }
    public string? ErrorReason { get; init; }
    public required DateTimeOffset CompletedAt { get; init; }
}

public sealed record ClaimedMeterEvent(Guid ModelCallId, Guid UserId, decimal Credits, DateTimeOffset CreatedAt, int Attempts);

/// <summary>
/// Every statement that moves money, one copy for the Api and the Worker. Each step is ONE statement (data-modifying
/// CTEs run atomically in a single snapshot), so each is one round trip and all-or-nothing without an explicit
/// transaction, and every settlement is guarded by <c>status = 'processing'</c> so that a call is settled — and its
/// reservation released — exactly once, whoever gets there first.
/// </summary>
public static class BillingSql
{
    private const string S = AigneHubDbContext.Schema;

    private static readonly string EnsureAccountSql = $"""
        WITH acct AS (
            INSERT INTO {S}.credit_accounts (user_id, balance, reserved, created_at, updated_at)
            VALUES (@user, @welcome, 0, @now, @now)
            ON CONFLICT (user_id) DO NOTHING
            RETURNING user_id),
        grant_row AS (
            INSERT INTO {S}.credit_grants (id, user_id, amount, remaining, category, source, created_at)
            SELECT @grant, user_id, @welcome, @welcome, 'promotional', 'welcome', @now FROM acct WHERE @welcome > 0
            RETURNING id, user_id)
        INSERT INTO {S}.credit_ledger (id, user_id, amount, kind, grant_id, description, created_at)
        SELECT @entry, user_id, @welcome, 'grant', id, 'Welcome credits', @now FROM grant_row
        """;

    private static readonly string StartReservedSql = $"""
        WITH r AS (
            UPDATE {S}.credit_accounts SET reserved = reserved + @reserve, updated_at = @now
            WHERE user_id = @user AND balance - reserved >= @reserve
            RETURNING user_id)
        INSERT INTO {S}.model_calls (id, user_id, app_id, access_key_id, surface, provider, model, requested_model, type,
            status, images, image_size, image_quality, parameters, reserved_credits, billed, request_id, trace_id, created_at)
        SELECT @id, @user, @app, @key, @surface, @provider, @model, @requested, @type,
            'processing', @images, @size, @quality, @params, @reserve, @billed, @request, @trace, @now FROM r
        """;

    private static readonly string StartUnreservedSql = $"""
        INSERT INTO {S}.model_calls (id, user_id, app_id, access_key_id, surface, provider, model, requested_model, type,
            status, images, image_size, image_quality, parameters, reserved_credits, billed, request_id, trace_id, created_at)
        VALUES (@id, @user, @app, @key, @surface, @provider, @model, @requested, @type,
            'processing', @images, @size, @quality, @params, 0, @billed, @request, @trace, @now)
        """;

    // Many starts in one statement (group commit; see CallStarts in the Api). The accounts with a reservation in the
    // batch are locked first, in user_id order (the order every batch takes, so two replicas' batches cannot deadlock),
    // and FOR UPDATE reads their latest committed balance. A reserved row is admitted when the running sum of the
    // batch's reservations on its account, in arrival order, fits what was available — so a batch never holds more
    // than the account had, exactly as the same starts one after another would. (A row refused here only because an
    // earlier, bigger row of its batch was refused too is retried alone by the caller; see StartCallsAsync.)
    private static readonly string StartBatchSql = $"""
        WITH input AS (
            SELECT * FROM unnest(@ids, @users, @apps, @keys, @surfaces, @providers, @models, @requested, @types,
                @images, @sizes, @qualities, @params, @reserves, @billed, @requests, @traces, @created)
                WITH ORDINALITY AS t(id, user_id, app_id, access_key_id, surface, provider, model, requested_model, type,
                    images, image_size, image_quality, parameters, reserve, billed, request_id, trace_id, created_at, ord)),
        locked AS MATERIALIZED (
            SELECT a.user_id, a.balance - a.reserved AS available FROM {S}.credit_accounts a
            WHERE a.user_id IN (SELECT user_id FROM input WHERE reserve IS NOT NULL)
            ORDER BY a.user_id
            FOR UPDATE OF a),
        admitted AS MATERIALIZED (
            SELECT r.id, r.user_id, r.reserve, r.created_at FROM (
                SELECT id, user_id, reserve, created_at, sum(reserve) OVER (PARTITION BY user_id ORDER BY ord) AS running
                FROM input WHERE reserve IS NOT NULL) r
            JOIN locked l ON l.user_id = r.user_id
            WHERE r.running <= l.available),
        reserved AS (
            UPDATE {S}.credit_accounts a SET reserved = a.reserved + s.total, updated_at = s.at
            FROM (SELECT user_id, sum(reserve) AS total, max(created_at) AS at FROM admitted GROUP BY user_id) s
            WHERE a.user_id = s.user_id),
        inserted AS (
            INSERT INTO {S}.model_calls (id, user_id, app_id, access_key_id, surface, provider, model, requested_model, type,
                status, images, image_size, image_quality, parameters, reserved_credits, billed, request_id, trace_id, created_at)
            SELECT i.id, i.user_id, i.app_id, i.access_key_id, i.surface, i.provider, i.model, i.requested_model, i.type,
                'processing', i.images, i.image_size, i.image_quality, i.parameters::jsonb, coalesce(i.reserve, 0), i.billed,
                i.request_id, i.trace_id, i.created_at
            FROM input i
            WHERE i.reserve IS NULL OR i.id IN (SELECT id FROM admitted)
            RETURNING id)
        SELECT id FROM inserted
        """;

    // The settlement, of one call or of many in ONE statement (group commit; see CallSettlements in the Api): each
    // call's record is updated under the `status = 'processing'` guard (whoever settles first wins; a call id given
    // twice is settled by its first occurrence), and each account is then touched ONCE — its charges summed, its
    // reservations released, its grants walked once for the sum. The walk takes the charge plus any debt (Σ remaining
    // − balance: an earlier charge that found too little to consume) in order — soonest-expiring first, promotional
    // before paid at equal expiry, then oldest. One walk for the sum consumes exactly what the same settlements one
    // after another would: each walk takes a prefix of the same order, and what is left after them is the same,
    // max(0, min(Σ remaining, balance) − Σ charges) (GroupCommitTests computes it by hand). `held` re-reads the grants
    // FOR UPDATE, which in READ COMMITTED returns the latest committed versions even though this statement's snapshot
    // predates the lock wait — a plain read would walk stale `remaining` values after a concurrent settlement.
    // Lock order: the call rows (the UPDATE of `c`), all of them before any account row (`per_account` aggregates all
    // of `c` first; the stale-call cleanup takes a call row, then its account), then the accounts in user_id order
    // (`locked`, read in full by the InitPlan of `acct` before any account row is updated — the order start batches
    // take them in, so batches of several replicas cannot deadlock), then their grants (every writer of a user's
    // grants holds the account row first, so none deadlocks on the grant rows).
    private static readonly string SettleSql = $"""
        WITH input AS (
            SELECT DISTINCT ON (t.id) t.* FROM unnest(@ids, @statuses, @providers, @models, @credentials, @prompts, @completions,
                @cache_writes, @cache_reads, @images, @videos, @characters, @audios, @credits, @estimated, @durations,
                @gateway_ttfbs, @provider_ttfbs, @attempts, @status_codes, @errors, @entries, @nows)
                WITH ORDINALITY AS t(id, status, provider, model, credential_id, prompt_tokens, completion_tokens,
                    cache_creation_tokens, cache_read_tokens, images, video_seconds, characters, audio_seconds, credits,
                    estimated, duration_ms, gateway_ttfb_ms, provider_ttfb_ms, attempts, status_code, error_reason, entry, at, ord)
            ORDER BY t.id, t.ord),
        c AS (
            UPDATE {S}.model_calls m SET status = i.status, provider = coalesce(i.provider, m.provider), model = coalesce(i.model, m.model),
                credential_id = i.credential_id, prompt_tokens = i.prompt_tokens, completion_tokens = i.completion_tokens,
                cache_creation_tokens = i.cache_creation_tokens, cache_read_tokens = i.cache_read_tokens, images = i.images,
                video_seconds = i.video_seconds, characters = i.characters, audio_seconds = i.audio_seconds, credits = i.credits,
                estimated = i.estimated, duration_ms = i.duration_ms, gateway_ttfb_ms = i.gateway_ttfb_ms,
                provider_ttfb_ms = i.provider_ttfb_ms, attempts = i.attempts, status_code = i.status_code,
                error_reason = i.error_reason, completed_at = i.at
            FROM input i
            WHERE m.id = i.id AND m.status = 'processing'
            RETURNING m.id, m.user_id, m.reserved_credits, m.billed, i.credits, i.entry, i.at),
        per_account AS MATERIALIZED (
            SELECT user_id, sum(CASE WHEN billed THEN credits ELSE 0 END) AS charge, sum(reserved_credits) AS released, max(at) AS at
            FROM c WHERE user_id IS NOT NULL
            GROUP BY user_id
            HAVING sum(reserved_credits) <> 0 OR sum(CASE WHEN billed THEN credits ELSE 0 END) > 0),
        locked AS MATERIALIZED (
            SELECT a.user_id FROM {S}.credit_accounts a
            WHERE a.user_id IN (SELECT user_id FROM per_account)
            ORDER BY a.user_id
            FOR UPDATE OF a),
        acct AS (
            UPDATE {S}.credit_accounts a SET balance = a.balance - p.charge, reserved = a.reserved - p.released, updated_at = p.at
            FROM per_account p
            WHERE a.user_id = p.user_id AND (SELECT count(*) FROM locked) >= 0
            RETURNING a.user_id, a.balance + p.charge AS balance_before, p.charge),
        held AS MATERIALIZED (
            SELECT g.id, g.user_id, g.remaining, g.expires_at, g.category, g.created_at
            FROM {S}.credit_grants g JOIN acct ON g.user_id = acct.user_id
            WHERE acct.charge > 0 AND g.remaining > 0
            ORDER BY g.user_id, g.expires_at NULLS LAST, g.category = 'paid', g.created_at, g.id
            FOR UPDATE OF g),
        walk AS (
            SELECT h.id, h.remaining,
                sum(h.remaining) OVER (PARTITION BY h.user_id ORDER BY h.expires_at NULLS LAST, h.category = 'paid', h.created_at, h.id) - h.remaining AS taken_before,
                acct.charge + greatest(0, sum(h.remaining) OVER (PARTITION BY h.user_id) - acct.balance_before) AS target
            FROM held h JOIN acct ON acct.user_id = h.user_id),
        consumed AS (
            UPDATE {S}.credit_grants g SET remaining = w.remaining - least(w.remaining, w.target - w.taken_before)
            FROM walk w WHERE g.id = w.id AND w.taken_before < w.target
            RETURNING g.id),
        debit AS (
            INSERT INTO {S}.credit_ledger (id, user_id, amount, kind, model_call_id, created_at)
            SELECT c.entry, c.user_id, -c.credits, 'debit', c.id, c.at FROM c
            WHERE c.billed AND c.credits > 0 AND c.user_id IS NOT NULL
            RETURNING id),
        meter AS (
            INSERT INTO {S}.meter_events (model_call_id, user_id, credits, created_at, next_attempt_at, attempts)
            SELECT c.id, c.user_id, c.credits, c.at, c.at, 0 FROM c
            WHERE c.billed AND c.credits > 0 AND c.user_id IS NOT NULL
            RETURNING model_call_id)
        SELECT id FROM c
        """;

    // The batch is picked in a MATERIALIZED CTE: as an IN (subquery) the planner may rescan a LIMIT … SKIP LOCKED
    // subquery per outer row and take far more than the batch (a test caught exactly that).
    private static readonly string ExpireStaleSql = $"""
        WITH picked AS MATERIALIZED (
            SELECT id FROM {S}.model_calls
            WHERE status = 'processing' AND coalesce(last_activity_at, created_at) < @cutoff
            ORDER BY created_at LIMIT @limit
            FOR UPDATE SKIP LOCKED),
        stale AS (
            UPDATE {S}.model_calls m SET status = 'failed', error_reason = @reason, completed_at = @now
            FROM picked WHERE m.id = picked.id AND m.status = 'processing'
            RETURNING m.user_id, m.reserved_credits),
        released AS (
            SELECT user_id, sum(reserved_credits) AS amount FROM stale
            WHERE reserved_credits <> 0 AND user_id IS NOT NULL GROUP BY user_id),
        acct AS (
            UPDATE {S}.credit_accounts a SET reserved = a.reserved - released.amount, updated_at = @now
            FROM released WHERE a.user_id = released.user_id
            RETURNING a.user_id)
        SELECT count(*)::int FROM stale
        """;

    // Grant expiry, per account: the accounts with a due grant are locked first (SKIP LOCKED, so replicas take
    // disjoint accounts and never wait on each other or on a settlement), then all their grants FOR UPDATE (latest
    // versions, see SettleSql) — the same lock order as a settlement. Outstanding debt is absorbed first, in
    // consumption order (due grants come first: they expire soonest); what is left of each due grant lapses: an
    // `expiry` ledger entry and the balance lowered by it. `expired_at IS NULL` is re-checked on the locked row and
    // ux_credit_ledger_expiry backs it, so a grant expires once whatever replays or races.
    private static readonly string ExpireGrantsSql = $"""
        WITH due AS MATERIALIZED (
            SELECT DISTINCT user_id FROM {S}.credit_grants
            WHERE expired_at IS NULL AND expires_at <= @now
            LIMIT @limit),
        acct AS MATERIALIZED (
            SELECT a.user_id, a.balance FROM {S}.credit_accounts a JOIN due ON a.user_id = due.user_id
            ORDER BY a.user_id
            FOR UPDATE OF a SKIP LOCKED),
        held AS MATERIALIZED (
            SELECT g.id, g.user_id, g.remaining, g.expires_at, g.category, g.created_at, g.expires_at <= @now AS lapsing
            FROM {S}.credit_grants g JOIN acct ON g.user_id = acct.user_id
            WHERE g.expired_at IS NULL AND (g.remaining > 0 OR g.expires_at <= @now)
            ORDER BY g.user_id, g.expires_at NULLS LAST, g.category = 'paid', g.created_at, g.id
            FOR UPDATE OF g),
        walk AS (
            SELECT h.id, h.user_id, h.remaining, coalesce(h.lapsing, false) AS lapsing,
                least(h.remaining, greatest(0,
                    greatest(0, sum(h.remaining) OVER (PARTITION BY h.user_id) - acct.balance)
                    - (sum(h.remaining) OVER (PARTITION BY h.user_id ORDER BY h.expires_at NULLS LAST, h.category = 'paid', h.created_at, h.id) - h.remaining)))
                    AS absorbed
            FROM held h JOIN acct ON acct.user_id = h.user_id),
        changed AS (
            UPDATE {S}.credit_grants g
            SET remaining = CASE WHEN w.lapsing THEN 0 ELSE w.remaining - w.absorbed END,
                expired_at = CASE WHEN w.lapsing THEN @now ELSE g.expired_at END
            FROM walk w WHERE g.id = w.id AND (w.lapsing OR w.absorbed > 0)
            RETURNING g.id, g.user_id, w.lapsing, w.remaining - w.absorbed AS lapsed),
        entries AS (
            INSERT INTO {S}.credit_ledger (id, user_id, amount, kind, grant_id, description, created_at)
            SELECT gen_random_uuid(), user_id, -lapsed, 'expiry', id, 'Credits expired', @now
            FROM changed WHERE lapsing AND lapsed > 0
            RETURNING id),
        balances AS (
            UPDATE {S}.credit_accounts a SET balance = a.balance - s.lapsed, updated_at = @now
            FROM (SELECT user_id, sum(lapsed) AS lapsed FROM changed WHERE lapsing GROUP BY user_id) s
            WHERE a.user_id = s.user_id AND s.lapsed > 0
            RETURNING a.user_id)
        SELECT count(*) FILTER (WHERE lapsing)::int, coalesce(sum(lapsed) FILTER (WHERE lapsing), 0)::numeric,
            (SELECT count(*)::int FROM acct)
        FROM changed
        """;

    private static readonly string ClaimMeterSql = $"""
        WITH picked AS MATERIALIZED (
            SELECT model_call_id FROM {S}.meter_events
            WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= @now
            ORDER BY next_attempt_at LIMIT @limit
            FOR UPDATE SKIP LOCKED)
        UPDATE {S}.meter_events e SET next_attempt_at = @lease_until, attempts = e.attempts + 1
        FROM picked WHERE e.model_call_id = picked.model_call_id
        RETURNING e.model_call_id, e.user_id, e.credits, e.created_at, e.attempts
        """;

    private static readonly string MeterDeliveredSql =
        $"UPDATE {S}.meter_events SET delivered_at = @now, last_error = NULL WHERE model_call_id = @id AND delivered_at IS NULL";

    private static readonly string MeterFailedSql =
        $"UPDATE {S}.meter_events SET next_attempt_at = @next, last_error = @error WHERE model_call_id = @id AND delivered_at IS NULL";

    private static readonly string MeterDeadSql =
        $"UPDATE {S}.meter_events SET dead_at = @now, last_error = @error WHERE model_call_id = @id AND delivered_at IS NULL";

    // A claimed event handed back untried: due again at once, its claim's attempt undone. The attempt count is the
    // claim's fencing token: an event someone else claimed since (after this claim's lease lapsed) is left alone.
    private static readonly string MeterReleaseSql = $"""
        UPDATE {S}.meter_events e SET next_attempt_at = @now, attempts = e.attempts - 1
        FROM unnest(@ids, @attempts) AS r(id, attempts)
        WHERE e.model_call_id = r.id AND e.attempts = r.attempts AND e.delivered_at IS NULL
        """;

    private static readonly string MeterRetrySql =
        $"UPDATE {S}.meter_events SET dead_at = NULL, attempts = 0, next_attempt_at = @now WHERE model_call_id = @id AND dead_at IS NOT NULL AND delivered_at IS NULL";

    private static readonly string RollupSql = $"""
        INSERT INTO {S}.usage_rollups (granularity, bucket_start, user_id, app_id, provider, model, type, calls, successes,
            prompt_tokens, completion_tokens, cache_tokens, images, credits, duration_ms_sum, ttfb_p50_ms, ttfb_p95_ms, updated_at)
        SELECT @granularity, date_trunc(@unit, created_at, 'UTC'), coalesce(user_id, '00000000-0000-0000-0000-000000000000'::uuid),
            coalesce(app_id, ''), coalesce(provider, ''), coalesce(model, ''), type,
            count(*), count(*) FILTER (WHERE status = 'success'), sum(prompt_tokens), sum(completion_tokens),
            sum(cache_creation_tokens + cache_read_tokens), sum(images), sum(credits), coalesce(sum(duration_ms), 0),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY gateway_ttfb_ms),
            percentile_cont(0.95) WITHIN GROUP (ORDER BY gateway_ttfb_ms), @now
        FROM {S}.model_calls
        WHERE created_at >= @from AND created_at < @to AND status <> 'processing'
        GROUP BY 2, 3, 4, 5, 6, 7
        ON CONFLICT (granularity, bucket_start, user_id, app_id, provider, model, type) DO UPDATE SET
            calls = excluded.calls, successes = excluded.successes, prompt_tokens = excluded.prompt_tokens,
            completion_tokens = excluded.completion_tokens, cache_tokens = excluded.cache_tokens, images = excluded.images,
            credits = excluded.credits, duration_ms_sum = excluded.duration_ms_sum, ttfb_p50_ms = excluded.ttfb_p50_ms,
            ttfb_p95_ms = excluded.ttfb_p95_ms, updated_at = excluded.updated_at
        """;

    private static readonly string RetentionSql = $"""
        WITH picked AS MATERIALIZED (
            SELECT id FROM {S}.model_calls WHERE created_at < @cutoff AND status <> 'processing' LIMIT @limit)
        DELETE FROM {S}.model_calls m USING picked WHERE m.id = picked.id
        """;

    /// <summary>Creates the account on first use, with the welcome grant and its ledger entry — once per user,
    /// atomically (a racing second caller inserts nothing).</summary>
    public static async Task EnsureAccountAsync(NpgsqlDataSource db, Guid userId, decimal welcomeCredits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(EnsureAccountSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
        cmd.Parameters.Add(new NpgsqlParameter<decimal>("welcome", welcomeCredits));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("grant", Guid.CreateVersion7()));
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("entry", Guid.CreateVersion7()));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Inserts the <c>processing</c> call; with a reservation, only if it fits the available balance
    /// (one guarded UPDATE, no read-then-write). Returns false when it does not fit (nothing was written).</summary>
    public static async Task<bool> StartCallAsync(NpgsqlDataSource db, StartCallCommand call, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(call.Reserve is null ? StartUnreservedSql : StartReservedSql);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid>("id", call.Id));
        p.Add(Nullable("user", call.UserId, NpgsqlDbType.Uuid));
        p.Add(Nullable("app", call.AppId, NpgsqlDbType.Varchar));
        p.Add(Nullable("key", call.AccessKeyId, NpgsqlDbType.Uuid));
        p.Add(new NpgsqlParameter<string>("surface", BillingModel.Word(call.Surface)));
        p.Add(Nullable("provider", call.Provider, NpgsqlDbType.Varchar));
        p.Add(Nullable("model", call.Model, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<string>("requested", call.RequestedModel));
        p.Add(new NpgsqlParameter<string>("type", BillingModel.Word(call.Type)));
        p.Add(new NpgsqlParameter<int>("images", call.Images));
        p.Add(Nullable("size", call.ImageSize, NpgsqlDbType.Varchar));
        p.Add(Nullable("quality", call.ImageQuality, NpgsqlDbType.Varchar));
        p.Add(Nullable("params", call.Parameters, NpgsqlDbType.Jsonb));
        p.Add(new NpgsqlParameter<bool>("billed", call.Billed));
        p.Add(Nullable("request", call.RequestId, NpgsqlDbType.Varchar));
        p.Add(Nullable("trace", call.TraceId, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<DateTimeOffset>("now", call.CreatedAt));
        if (call.Reserve is { } reserve)
        {
            p.Add(new NpgsqlParameter<decimal>("reserve", reserve));
        }
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Makes many calls durable as <c>processing</c> in ONE statement and one commit, reserving for those that carry a
    /// reservation (see <c>StartBatchSql</c>). Returns the ids written; a reserved call missing from it was refused
    /// for credits by the batch — its caller retries it alone with <see cref="StartCallAsync"/>, which is the rule.
    /// </summary>
    public static async Task<HashSet<Guid>> StartCallsAsync(NpgsqlDataSource db, IReadOnlyList<StartCallCommand> calls, CancellationToken cancellationToken)
    {
        var n = calls.Count;
        var ids = new Guid[n];
        var users = new Guid?[n];
        var apps = new string?[n];
        var keys = new Guid?[n];
        var surfaces = new string[n];
        var providers = new string?[n];
        var models = new string?[n];
        var requested = new string[n];
        var types = new string[n];
        var images = new int[n];
        var sizes = new string?[n];
        var qualities = new string?[n];
        var parameters = new string?[n];
        var reserves = new decimal?[n];
        var billed = new bool[n];
        var requests = new string?[n];
        var traces = new string?[n];
        var created = new DateTimeOffset[n];
        for (var i = 0; i < n; i++)
        {
            var c = calls[i];
            ids[i] = c.Id;
            users[i] = c.UserId;
            apps[i] = c.AppId;
            keys[i] = c.AccessKeyId;
            surfaces[i] = BillingModel.Word(c.Surface);
            providers[i] = c.Provider;
            models[i] = c.Model;
            requested[i] = c.RequestedModel;
            types[i] = BillingModel.Word(c.Type);
            images[i] = c.Images;
            sizes[i] = c.ImageSize;
            qualities[i] = c.ImageQuality;
            parameters[i] = c.Parameters;
            reserves[i] = c.Reserve;
            billed[i] = c.Billed;
            requests[i] = c.RequestId;
            traces[i] = c.TraceId;
            created[i] = c.CreatedAt;
        }
        await using var cmd = db.CreateCommand(StartBatchSql);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid[]>("ids", ids));
        p.Add(new NpgsqlParameter<Guid?[]>("users", users));
        p.Add(Array("apps", apps, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<Guid?[]>("keys", keys));
        p.Add(Array("surfaces", surfaces, NpgsqlDbType.Varchar));
        p.Add(Array("providers", providers, NpgsqlDbType.Varchar));
        p.Add(Array("models", models, NpgsqlDbType.Varchar));
        p.Add(Array("requested", requested, NpgsqlDbType.Varchar));
        p.Add(Array("types", types, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<int[]>("images", images));
        p.Add(Array("sizes", sizes, NpgsqlDbType.Varchar));
        p.Add(Array("qualities", qualities, NpgsqlDbType.Varchar));
        p.Add(Array("params", parameters, NpgsqlDbType.Text));
        p.Add(new NpgsqlParameter<decimal?[]>("reserves", reserves));
        p.Add(new NpgsqlParameter<bool[]>("billed", billed));
        p.Add(Array("requests", requests, NpgsqlDbType.Varchar));
        p.Add(Array("traces", traces, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<DateTimeOffset[]>("created", created));
        var written = new HashSet<Guid>(n);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            written.Add(reader.GetGuid(0));
        }
        return written;
    }

    /// <summary>Settles a processing call: the record, the reservation, and for a billed charge the ledger debit and
    /// the meter event, all in one statement. Returns false if the call was already settled (by anyone).</summary>
    public static async Task<bool> SettleCallAsync(NpgsqlDataSource db, SettleCallCommand call, CancellationToken cancellationToken) =>
        (await SettleCallsAsync(db, [call], cancellationToken))[0];

    /// <summary>Many settlements in ONE statement, one round trip and one commit (<c>SettleSql</c>): each call as
    /// <see cref="SettleCallAsync"/> would settle it, each account touched once. All or nothing; an outcome per call, in
    /// order, as <see cref="SettleCallAsync"/> returns it (a call given twice: settled by its first occurrence).</summary>
    public static async Task<bool[]> SettleCallsAsync(NpgsqlDataSource db, IReadOnlyList<SettleCallCommand> calls, CancellationToken cancellationToken)
    {
        var n = calls.Count;
        var ids = new Guid[n];
        var statuses = new string[n];
        var providers = new string?[n];
        var models = new string?[n];
        var credentials = new Guid?[n];
        var prompts = new int[n];
        var completions = new int[n];
        var cacheWrites = new int[n];
        var cacheReads = new int[n];
        var images = new int[n];
        var videos = new decimal?[n];
        var characters = new int[n];
        var audios = new decimal?[n];
        var credits = new decimal[n];
        var estimated = new bool[n];
        var durations = new int?[n];
        var gatewayTtfbs = new int?[n];
        var providerTtfbs = new int?[n];
        var attempts = new int[n];
        var statusCodes = new int?[n];
        var errors = new string?[n];
        var entries = new Guid[n];
        var nows = new DateTimeOffset[n];
        for (var i = 0; i < n; i++)
        {
            var c = calls[i];
            ids[i] = c.Id;
            statuses[i] = BillingModel.Word(c.Status);
            providers[i] = c.Provider;
            models[i] = c.Model;
            credentials[i] = c.CredentialId;
            prompts[i] = c.PromptTokens;
            completions[i] = c.CompletionTokens;
            cacheWrites[i] = c.CacheCreationTokens;
            cacheReads[i] = c.CacheReadTokens;
            images[i] = c.Images;
            videos[i] = c.VideoSeconds;
            characters[i] = c.Characters;
            audios[i] = c.AudioSeconds;
            credits[i] = c.Credits;
            estimated[i] = c.Estimated;
            durations[i] = c.DurationMs;
            gatewayTtfbs[i] = c.GatewayTtfbMs;
            providerTtfbs[i] = c.ProviderTtfbMs;
            attempts[i] = c.Attempts;
            statusCodes[i] = c.StatusCode;
            errors[i] = ErrorReason(c);
            entries[i] = Guid.CreateVersion7();
            nows[i] = c.CompletedAt;
        }
        await using var cmd = db.CreateCommand(SettleSql);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid[]>("ids", ids));
        p.Add(Array("statuses", statuses!, NpgsqlDbType.Varchar));
        p.Add(Array("providers", providers, NpgsqlDbType.Varchar));
        p.Add(Array("models", models, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<Guid?[]>("credentials", credentials));
        p.Add(new NpgsqlParameter<int[]>("prompts", prompts));
        p.Add(new NpgsqlParameter<int[]>("completions", completions));
        p.Add(new NpgsqlParameter<int[]>("cache_writes", cacheWrites));
        p.Add(new NpgsqlParameter<int[]>("cache_reads", cacheReads));
        p.Add(new NpgsqlParameter<int[]>("images", images));
        p.Add(new NpgsqlParameter<decimal?[]>("videos", videos));
        p.Add(new NpgsqlParameter<int[]>("characters", characters));
        p.Add(new NpgsqlParameter<decimal?[]>("audios", audios));
        p.Add(new NpgsqlParameter<decimal[]>("credits", credits));
        p.Add(new NpgsqlParameter<bool[]>("estimated", estimated));
        p.Add(new NpgsqlParameter<int?[]>("durations", durations));
        p.Add(new NpgsqlParameter<int?[]>("gateway_ttfbs", gatewayTtfbs));
        p.Add(new NpgsqlParameter<int?[]>("provider_ttfbs", providerTtfbs));
        p.Add(new NpgsqlParameter<int[]>("attempts", attempts));
        p.Add(new NpgsqlParameter<int?[]>("status_codes", statusCodes));
        p.Add(Array("errors", errors, NpgsqlDbType.Varchar));
        p.Add(new NpgsqlParameter<Guid[]>("entries", entries));
        p.Add(new NpgsqlParameter<DateTimeOffset[]>("nows", nows));
        var written = new HashSet<Guid>(n);
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(reader.GetGuid(0));
            }
        }
        var settled = new bool[n];
        for (var i = 0; i < n; i++)
        {
            // Remove: a second occurrence of the same id was not settled by this statement.
            settled[i] = written.Remove(ids[i]);
        }
        return settled;
    }

    /// <summary>Fails calls processing since before <paramref name="cutoff"/> and releases their reservations,
    /// guarded exactly like a settlement. Returns how many it closed.</summary>
    public static async Task<int> ExpireStaleCallsAsync(NpgsqlDataSource db, DateTimeOffset cutoff, string reason, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(ExpireStaleSql);
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
        cmd.Parameters.Add(new NpgsqlParameter<string>("reason", reason));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        cmd.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        return (int)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Expires the due grants of up to <paramref name="limit"/> accounts (see <see cref="ExpireGrantsSql"/>).
    /// Returns the grants expired, the credits that lapsed, and how many accounts were processed (fewer than the
    /// limit means this pass found no more work, save accounts locked by someone else).</summary>
    public static async Task<(int Grants, decimal Lapsed, int Accounts)> ExpireGrantsAsync(NpgsqlDataSource db, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(ExpireGrantsSql);
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        cmd.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), reader.GetDecimal(1), reader.GetInt32(2));
    }

    /// <summary>Claims due meter events for this worker until <paramref name="leaseUntil"/> (others skip them).</summary>
    public static async Task<List<ClaimedMeterEvent>> ClaimMeterEventsAsync(NpgsqlDataSource db, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(ClaimMeterSql);
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("lease_until", leaseUntil));
        cmd.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        List<ClaimedMeterEvent> events = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new(reader.GetGuid(0), reader.GetGuid(1), reader.GetDecimal(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt32(4)));
        }
        return events;
    }

    public static async Task MarkMeterDeliveredAsync(NpgsqlDataSource db, Guid modelCallId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(MeterDeliveredSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("id", modelCallId));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Moves an undeliverable event to the dead letters (kept, not tried again until retried).</summary>
    public static async Task MarkMeterDeadAsync(NpgsqlDataSource db, Guid modelCallId, DateTimeOffset now, string error, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(MeterDeadSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("id", modelCallId));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        cmd.Parameters.Add(new NpgsqlParameter<string>("error", error.Length > 2000 ? error[..2000] : error));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Hands claimed, untried events back (see <see cref="MeterReleaseSql"/>).</summary>
    public static async Task ReleaseMeterEventsAsync(NpgsqlDataSource db, IReadOnlyList<ClaimedMeterEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(MeterReleaseSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", [.. events.Select(e => e.ModelCallId)]));
        cmd.Parameters.Add(new NpgsqlParameter<int[]>("attempts", [.. events.Select(e => e.Attempts)]));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Brings a dead-lettered event back: due now, attempts from zero. False when there is no such dead event.</summary>
    public static async Task<bool> RetryDeadMeterEventAsync(NpgsqlDataSource db, Guid modelCallId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(MeterRetrySql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("id", modelCallId));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public static async Task MarkMeterFailedAsync(NpgsqlDataSource db, Guid modelCallId, DateTimeOffset nextAttempt, string error, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(MeterFailedSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("id", modelCallId));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("next", nextAttempt));
        cmd.Parameters.Add(new NpgsqlParameter<string>("error", error.Length > 2000 ? error[..2000] : error));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Recomputes the rollup buckets of calls created in [from, to) (idempotent upsert).</summary>
    public static async Task<int> RollupAsync(NpgsqlDataSource db, RollupGranularity granularity, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(RollupSql);
        cmd.Parameters.Add(new NpgsqlParameter<string>("granularity", BillingModel.Word(granularity)));
        cmd.Parameters.Add(new NpgsqlParameter<string>("unit", granularity == RollupGranularity.Hour ? "hour" : "day"));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("from", from));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("to", to));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Renews the lease of the given calls that are still processing (the Api serving them is alive).</summary>
    public static async Task<int> RenewCallLeasesAsync(NpgsqlDataSource db, Guid[] ids, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"UPDATE {S}.model_calls SET last_activity_at = @now WHERE id = ANY(@ids) AND status = 'processing'");
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ids));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The creation time of the earliest call that closed at or after <paramref name="since"/>; null when
    /// none did.</summary>
    public static async Task<DateTimeOffset?> EarliestCallClosedSinceAsync(NpgsqlDataSource db, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"SELECT min(created_at) FROM {S}.model_calls WHERE completed_at >= @since");
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("since", since));
        return await cmd.ExecuteScalarAsync(cancellationToken) is DateTime created
            ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc))
            : null;
    }

    /// <summary>When the rollups last ran (their newest <c>updated_at</c>); null before the first run.</summary>
    public static async Task<DateTimeOffset?> LastRollupAsync(NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"SELECT max(updated_at) FROM {S}.usage_rollups");
        return await cmd.ExecuteScalarAsync(cancellationToken) is DateTime at
            ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
            : null;
    }

    /// <summary>Deletes the kept answers of idempotent requests made before the cutoff.</summary>
    public static async Task<int> DeleteIdempotentRequestsBeforeAsync(NpgsqlDataSource db, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand($"DELETE FROM {S}.idempotent_requests WHERE created_at < @cutoff");
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes up to <paramref name="limit"/> settled calls created before the cutoff.</summary>
    public static async Task<int> DeleteCallsBeforeAsync(NpgsqlDataSource db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(RetentionSql);
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
        cmd.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The error reason as stored: at most the column's 2,000 characters.</summary>
    private static string? ErrorReason(SettleCallCommand call) => call.ErrorReason is { Length: > 2000 } e ? e[..2000] : call.ErrorReason;

    private static NpgsqlParameter Nullable(string name, object? value, NpgsqlDbType type) =>
        new(name, type) { Value = value ?? DBNull.Value };

    private static NpgsqlParameter Array(string name, string?[] values, NpgsqlDbType elementType) =>
        new(name, NpgsqlDbType.Array | elementType) { Value = values };
}
