using System.Text.Json;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Contracts.Management;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Management;

/// <summary>
/// <c>/api/admin/models</c>: the model catalogue that unprefixed model names and the public model lists resolve
/// through. Mapped into <see cref="ProviderAdminApi"/>'s group (same policy and tag).
/// </summary>
internal static class ModelCatalogAdminApi
{
    private const int MaxModelLength = 200;

    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/models", ListModels).WithName("ListCatalogModels")
            .WithSummary("List the model catalogue (optionally ?provider=&type=).");
        group.MapPost("/models", CreateModel).WithName("CreateCatalogModel")
            .WithSummary("Add a model to the catalogue.").Accepts<ModelRequest>("application/json");
        group.MapPut("/models/{id:guid}", UpdateModel).WithName("UpdateCatalogModel")
            .WithSummary("Change a catalogue entry (omitted fields keep their value).").Accepts<ModelRequest>("application/json");
        group.MapDelete("/models/{id:guid}", DeleteModel).WithName("DeleteCatalogModel")
            .WithSummary("Remove a catalogue entry.");
    }

    internal static async Task<Results<Ok<List<ModelResponse>>, JsonHttpResult<ErrorEnvelope>>> ListModels(
        string? provider, string? type, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var query = s.Db.Set<AiModel>().AsNoTracking().Include(m => m.Provider).AsQueryable();
        if (!string.IsNullOrWhiteSpace(provider))
        {
            var name = provider.Trim().ToLowerInvariant();
            query = query.Where(m => m.Provider!.Name == name);
        }
        if (!string.IsNullOrWhiteSpace(type))
        {
            if (!ModelTypes.TryParse(type, out var modelType))
            {
                return ApiErrors.BadRequest("'type' must be one of: chat, embedding, image, video, audio.", "type");
            }
            query = query.Where(m => m.Type == modelType);
        }
        var models = await query.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(models.Select(ToResponse).ToList());
    }

    internal static async Task<Results<Created<ModelResponse>, JsonHttpResult<ErrorEnvelope>>> CreateModel(
        HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.ModelRequest);
        if (error is not null)
        {
            return error;
        }
        if (body!.Provider is null)
        {
            return ApiErrors.BadRequest("'provider' is required: the name of a configured provider (e.g. openai).", "provider");
        }
        if (body.Model is null)
        {
            return ApiErrors.BadRequest("'model' is required: the provider's model id.", "model");
        }
        if (body.Type is null)
        {
            return ApiErrors.BadRequest("'type' is required: one of chat, embedding, image, video, audio.", "type");
        }
        if (Validate(body) is { } invalid)
        {
            return invalid;
        }
        var provider = await FindProviderAsync(s.Db, body.Provider, cancellationToken);
        if (provider is null)
        {
            return UnknownProvider(body.Provider);
        }
        ModelTypes.TryParse(body.Type, out var type);
        var model = new AiModel
        {
            ProviderId = provider.Id,
            Provider = provider,
            Model = body.Model.Trim(),
            Type = type,
            DisplayName = ProviderAdminApi.EmptyToNull(body.DisplayName),
            Metadata = MetadataText(body.Metadata),
            Enabled = body.Enabled ?? true,
            CreatedAt = s.Time.GetUtcNow(),
        };
        s.Db.Add(model);
        if (!await ProviderAdminApi.TrySaveAsync(s.Db, cancellationToken))
        {
            return Duplicate(provider.Name, model);
        }
        await s.Changes.PublishAsync("model");
        return TypedResults.Created($"/api/admin/models/{model.Id}", ToResponse(model));
    }

    internal static async Task<Results<Ok<ModelResponse>, JsonHttpResult<ErrorEnvelope>>> UpdateModel(
        Guid id, HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var model = await s.Db.Set<AiModel>().Include(m => m.Provider).FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (model is null)
        {
            return ApiErrors.NotFound($"Model {id} does not exist in the catalogue.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.ModelRequest);
        if (error is not null)
        {
            return error;
        }
        if (Validate(body!) is { } invalid)
        {
            return invalid;
        }
        if (body!.Provider is not null)
        {
            var provider = await FindProviderAsync(s.Db, body.Provider, cancellationToken);
            if (provider is null)
            {
                return UnknownProvider(body.Provider);
            }
            model.ProviderId = provider.Id;
            model.Provider = provider;
        }
        if (body.Model is not null)
        {
            model.Model = body.Model.Trim();
        }
        if (body.Type is not null)
        {
            ModelTypes.TryParse(body.Type, out var type);
            model.Type = type;
        }
        if (body.DisplayName is not null)
        {
            model.DisplayName = ProviderAdminApi.EmptyToNull(body.DisplayName);
        }
        if (body.Metadata is not null)
        {
            model.Metadata = MetadataText(body.Metadata);
        }
        model.Enabled = body.Enabled ?? model.Enabled;
        if (!await ProviderAdminApi.TrySaveAsync(s.Db, cancellationToken))
        {
            return Duplicate(model.Provider!.Name, model);
        }
        await s.Changes.PublishAsync("model");
        return TypedResults.Ok(ToResponse(model));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> DeleteModel(
        Guid id, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var deleted = await s.Db.Set<AiModel>().Where(m => m.Id == id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return ApiErrors.NotFound($"Model {id} does not exist in the catalogue.");
        }
        await s.Changes.PublishAsync("model");
        return TypedResults.NoContent();
    }

    private static JsonHttpResult<ErrorEnvelope>? Validate(ModelRequest body)
    {
        if (body.Provider is not null && string.IsNullOrWhiteSpace(body.Provider))
        {
            return ApiErrors.BadRequest("'provider' must name a configured provider.", "provider");
        }
        if (body.Model is not null && (string.IsNullOrWhiteSpace(body.Model) || body.Model.Trim().Length > MaxModelLength))
        {
            return ApiErrors.BadRequest($"'model' must be a non-empty model id of at most {MaxModelLength} characters.", "model");
        }
        if (body.Type is not null && !ModelTypes.TryParse(body.Type, out _))
        {
            return ApiErrors.BadRequest("'type' must be one of: chat, embedding, image, video, audio.", "type");
        }
        if (body.DisplayName is { Length: > 200 })
        {
            return ApiErrors.BadRequest("'displayName' is longer than 200 characters.", "displayName");
        }
        if (body.Metadata is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
        {
            return ApiErrors.BadRequest("'metadata' must be a JSON object (e.g. {\"contextWindow\":128000}).", "metadata");
        }
        return null;
    }

    private static Task<Provider?> FindProviderAsync(AigneHubDbContext db, string name, CancellationToken cancellationToken)
    {
        var normalized = name.Trim().ToLowerInvariant();
        return db.Set<Provider>().FirstOrDefaultAsync(p => p.Name == normalized, cancellationToken);
    }

    private static JsonHttpResult<ErrorEnvelope> UnknownProvider(string name) =>
        ApiErrors.BadRequest($"Provider '{name.Trim()}' is not configured; add it under /api/admin/providers first.", "provider");

    private static JsonHttpResult<ErrorEnvelope> Duplicate(string provider, AiModel model) =>
        ApiErrors.Conflict($"The catalogue already has {provider}/{model.Model} as {ModelTypes.Name(model.Type)}.", "model");

    private static string? MetadataText(JsonElement? metadata) =>
        metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;

    private static ModelResponse ToResponse(AiModel m)
    {
        JsonElement? metadata = null;
        if (m.Metadata is not null)
        {
            using var document = JsonDocument.Parse(m.Metadata);
            metadata = document.RootElement.Clone();
        }
        return new ModelResponse(m.Id, m.ProviderId, m.Provider?.Name ?? "", m.Model, ModelTypes.Name(m.Type), m.DisplayName,
            metadata, m.Enabled, m.CreatedAt);
    }
}
