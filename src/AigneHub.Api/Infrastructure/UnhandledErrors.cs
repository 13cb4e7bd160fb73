using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace AigneHub.Api.Infrastructure;

/// <summary>
/// The answer to an exception nothing else caught, in every environment (the framework's developer page would
/// show a stack trace in Development): a body in the route's error shape (<see cref="ErrorShapeMetadata"/>, else
/// <see cref="ErrorEnvelope"/>) naming nothing of the exception. A database or Redis that is overloaded or
/// restarting (no pooled connection within its timeout, too many clients, a dropped connection) is a 503 with
/// <c>Retry-After</c>, not a 500: the request was fine and will work shortly.
/// </summary>
public static partial class UnhandledErrors
{
    internal const int BusyRetryAfterSeconds = 2;

    public static IApplicationBuilder UseUnhandledErrors(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteAsync });

    /// <summary>Storage that is overloaded or briefly gone, as opposed to a defect.</summary>
    public static bool IsTransientStorageFailure(Exception ex) => ex switch
    {
        NpgsqlException { IsTransient: true } => true,
        RedisConnectionException or RedisTimeoutException => true,
        TimeoutException => true,
        _ => ex.InnerException is { } inner && IsTransientStorageFailure(inner),
    };

    private static async Task WriteAsync(HttpContext context)
    {
        var feature = context.Features.Get<IExceptionHandlerFeature>();
        var error = feature?.Error;
        // The middleware cleared the endpoint too; its error shape is the route's.
        context.SetEndpoint(feature?.Endpoint);
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnhandledErrors));
        // The middleware cleared the headers; the message asks the caller to quote this one.
        if (Activity.Current is { } activity)
        {
            context.Response.Headers[TraceIdHeader.Name] = activity.TraceId.ToString();
        }
        if (error is not null && IsTransientStorageFailure(error))
        {
            Log.Busy(logger, error, context.Request.Path);
            context.Response.Headers.RetryAfter = BusyRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await ApiErrors.WriteAsync(context.Response, StatusCodes.Status503ServiceUnavailable,
                "AigneHub is busy; retry shortly.", ErrorTypes.Unavailable);
            return;
        }
        if (error is BadHttpRequestException { StatusCode: >= 400 and < 500 } bad)
        {
            // Kestrel refused the request itself while a route read it (a body arriving slower than
            // MinRequestBodyDataRate, a malformed chunk): the client's fault, in its own status.
            Log.BadRequest(logger, context.Request.Path, bad.StatusCode);
            await ApiErrors.WriteAsync(context.Response, bad.StatusCode, "The request could not be read (too slow, or malformed).", ErrorTypes.InvalidRequest);
            return;
        }
        Log.Failed(logger, error, context.Request.Path);
        await ApiErrors.WriteAsync(context.Response, StatusCodes.Status500InternalServerError,
            "AigneHub failed to process this request. Quote its x-trace-id when you report it.", "api_error");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Storage unavailable while serving {Path}; answered 503.")]
        public static partial void Busy(ILogger logger, Exception exception, string path);

        [LoggerMessage(2, LogLevel.Error, "Unhandled error while serving {Path}.")]
        public static partial void Failed(ILogger logger, Exception? exception, string path);

        [LoggerMessage(3, LogLevel.Information, "The request to {Path} could not be read; answered {Status}.")]
        public static partial void BadRequest(ILogger logger, string path, int status);
    }
}
