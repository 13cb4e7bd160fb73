using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Management;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Gateway.Protocols.Aigne;

/// <summary>
/// <c>GET /api/ai/models?type=chat|image|embedding|video</c>: the public model list the AIGNE SDK reads
/// (<c>getModels()</c>). Credits per token are decimal strings; <c>status</c> is <c>{available}</c> once the model's
/// health is known, else null. With credit billing on, only models with a rate are listed (the others would be
/// refused as unsupported).
/// </summary>
public static class ModelDirectoryApi
{
    public static RouteHandlerBuilder MapModelDirectory(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/ai/models", ListAsync)
            .WithName("PublicModelDirectory")
            .WithSummary("Models with their credit rates and availability (public; the AIGNE SDK's getModels).")
            .WithTags("AIGNE native");

    private static async Task<IResult> ListAsync(string? type, IModelCatalog catalog, IRateCatalog rates, IModelHealthView health,
        IOptions<BillingOptions> billing, CancellationToken cancellationToken)
    {
        ModelType? filter = null;
        if (!string.IsNullOrEmpty(type))
        {
            if (!Enum.TryParse<ModelType>(type, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return AigneErrors.Shape(GatewayException.BadRequest("'type' must be chat, image, embedding or video.", "type"));
            }
            filter = parsed;
        }

        var models = await catalog.ListAsync(filter, cancellationToken);
        var snapshot = await rates.GetAsync(cancellationToken);
        var items = new JsonArray();
        foreach (var m in models)
        {
            var rate = snapshot.Find(m.Provider, m.Model, m.Type);
            if (billing.Value.Enabled && (rate is null || rate.Deprecated))
            {
                continue;
            }
            var status = await health.GetAsync(m.Provider, m.Model, m.Type, cancellationToken);
            items.Add(new JsonObject
            {
                ["key"] = m.PublicName,
                ["model"] = m.Model,
                ["type"] = m.Type.ToString().ToLowerInvariant(),
                ["provider"] = m.Provider,
                ["providerId"] = m.ProviderId.ToString(),
                ["providerDisplayName"] = m.ProviderDisplayName ?? m.Provider,
                ["input_credits_per_token"] = BillingModel.Format(rate?.InputRate ?? 0m),
                ["output_credits_per_token"] = BillingModel.Format(rate?.OutputRate ?? 0m),
                ["modelMetadata"] = m.Metadata is { Length: > 0 } metadata ? JsonNode.Parse(metadata) : null,
                ["status"] = status is null ? null : new JsonObject { ["available"] = status.Available },
            });
        }
        if (filter is null or ModelType.Chat)
        {
            // An alias is listed as the chat model it resolves to first, under its own key.
            foreach (var alias in await catalog.ListAliasesAsync(cancellationToken))
            {
                var rate = snapshot.Find(alias.Provider, alias.Model, ModelType.Chat);
                if (billing.Value.Enabled && (rate is null || rate.Deprecated))
                {
                    continue;
                }
                items.Add(new JsonObject
                {
                    ["key"] = alias.Name,
                    ["model"] = alias.Model,
                    ["type"] = "chat",
                    ["provider"] = alias.Provider,
                    ["providerDisplayName"] = alias.Provider,
                    ["alias"] = true,
                    ["input_credits_per_token"] = BillingModel.Format(rate?.InputRate ?? 0m),
                    ["output_credits_per_token"] = BillingModel.Format(rate?.OutputRate ?? 0m),
                    ["modelMetadata"] = null,
                    ["status"] = null,
                });
            }
        }
        return Results.Json(items);
    }
}
