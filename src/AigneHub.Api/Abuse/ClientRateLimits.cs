using System.Globalization;
using System.Threading.RateLimiting;
using AigneHub.Api.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace AigneHub.Api.Abuse;

/// <summary>
/// Per-client-address limits on every anonymous route, as the framework's global rate limiter (so a route added
/// tomorrow is covered without anyone remembering to opt it in): an endpoint that allows anonymous callers — or no
/// endpoint at all, a probe for paths — is counted in the sign-in bucket (writes) or the read bucket (GET/HEAD) of the
/// caller's address. Counters are RedisRateLimiting fixed windows, shared by every replica. Refusals are 429 with
/// <c>Retry-After</c> in the management error shape.
/// </summary>
public static partial class ClientRateLimits
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    internal static void AddClientRateLimits(IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IConnectionMultiplexer, IOptions<ClientLimitOptions>, ILoggerFactory>(
            (options, redis, limits, loggers) =>
            {
                var logger = loggers.CreateLogger(typeof(ClientRateLimits));
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    Partition(context, redis, limits.Value, logger));
                options.OnRejected = (rejected, _) => new ValueTask(WriteRefusalAsync(rejected.HttpContext.Response,
                    RetryAfterOf(rejected.Lease), "Too many requests from this address; retry after the indicated time."));
            });
    }

    private static RateLimitPartition<string> Partition(HttpContext context, IConnectionMultiplexer redis, ClientLimitOptions limits, ILogger logger)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is not null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null)
        {
            // Authenticated routes: the credential is the limit (per-key limits, the unknown-credential guard).
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }
        var read = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        var (bucket, permits) = read ? ("read", limits.ReadsPerMinute) : ("signin", limits.SignInPerMinute);
        return RedisPartition($"aignehub:client:{bucket}:{ClientAddress.PartitionOf(context)}", permits, redis, logger);
    }

    /// <summary>A Redis fixed window of <paramref name="permits"/> per <see cref="Window"/> under <paramref name="key"/>.</summary>
    internal static RateLimitPartition<string> RedisPartition(string key, int permits, IConnectionMultiplexer redis, ILogger logger) =>
        RateLimitPartition.Get(key, k => new FailOpenRateLimiter(new RedisFixedWindowRateLimiter<string>(k, new RedisFixedWindowRateLimiterOptions
        {
            ConnectionMultiplexerFactory = () => redis,
            PermitLimit = permits,
            Window = Window,
        }), logger));

    /// <summary>Whole seconds, at least 1 (the library reports whole seconds, which can round down to 0).</summary>
    internal static int RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(RateLimitMetadataName.RetryAfter, out var seconds) ? Math.Max(1, seconds) : (int)Window.TotalSeconds;

    internal static Task WriteRefusalAsync(HttpResponse response, int retryAfterSeconds, string message)
    {
        response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ApiErrors.WriteAsync(response, StatusCodes.Status429TooManyRequests, message, ErrorTypes.RateLimit);
    }

    /// <summary>
    /// Redis unreachable: the request is let through (and logged) rather than failed. These limits bound cost, they
    /// do not guard a secret; the routes that need Redis for their own state answer 503 themselves.
    /// </summary>
    private sealed class FailOpenRateLimiter(RateLimiter inner, ILogger logger) : RateLimiter
    {
        public override TimeSpan? IdleDuration => inner.IdleDuration;

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => inner.AttemptAcquire(permitCount);

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            try
            {
                return await inner.AcquireAsync(permitCount, cancellationToken);
            }
            catch (RedisException ex)
            {
                Log.LimiterUnavailable(logger, ex);
                return Granted.Instance;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        protected override async ValueTask DisposeAsyncCore()
        {
            await inner.DisposeAsync();
            await base.DisposeAsyncCore();
        }
    }

    private sealed class Granted : RateLimitLease
    {
        public static readonly Granted Instance = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A per-client limit could not be counted (Redis unreachable); the request was let through.")]
        public static partial void LimiterUnavailable(ILogger logger, Exception exception);
    }
}
