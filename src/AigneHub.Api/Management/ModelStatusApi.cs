using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Contracts.Management;
using AigneHub.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AigneHub.Api.Management;

/// <summary><c>GET /api/v2/status?model=</c>: can this model be served right now?</summary>
public static class ModelStatusApi
{
    public static RouteGroupBuilder MapModelStatusApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2")
            .RequireAuthorization(AuthorizationPolicies.Inference)
            .WithTags("Gateway: models");
        group.MapGet("/status", GetStatus).WithName("GetModelStatus")
            .WithSummary("Whether a model (provider/model or a catalogue name, ?type= defaults to chat) is available.")
            .Produces<ErrorEnvelope>(StatusCodes.Status400BadRequest);
        return group;
    }

    /// <summary>
    /// Available when any provider the name resolves to is healthy or has no health record yet (it has never
    /// failed); otherwise the first provider's recorded error.
    /// </summary>
    internal static async Task<Results<Ok<ModelStatusResponse>, JsonHttpResult<ErrorEnvelope>>> GetStatus(
        string? model, string? type, IModelResolver resolver, IModelHealthView health, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return ApiErrors.BadRequest("'model' is required, e.g. ?model=openai/gpt-4o-mini.", "model");
        }
        var modelType = ModelType.Chat;
        if (!string.IsNullOrWhiteSpace(type) && !ModelTypes.TryParse(type, out modelType))
        {
            return ApiErrors.BadRequest("'type' must be one of: chat, embedding, image, video, audio.", "type");
        }
        var targets = await resolver.ResolveAsync(model, modelType, cancellationToken);
        if (targets.Count == 0)
        {
            return TypedResults.Ok(new ModelStatusResponse(false, $"No enabled provider serves the {ModelTypes.Name(modelType)} model '{model.Trim()}'."));
        }
        string? firstError = null;
        foreach (var target in targets)
        {
            var status = await health.GetAsync(target.Kind.Name, target.Model, target.Type, cancellationToken);
            if (status is null or { Available: true })
            {
                return TypedResults.Ok(new ModelStatusResponse(true, null));
            }
            // Any member may ask: the provider's last error is shown without hosts or URLs.
            firstError ??= $"{target.PublicName}: {status.ErrorClass}{(status.LastError is null ? "" : $" ({CallerErrorText.Sanitize(status.LastError)})")}";
        }
        return TypedResults.Ok(new ModelStatusResponse(false, firstError));
    }
}
