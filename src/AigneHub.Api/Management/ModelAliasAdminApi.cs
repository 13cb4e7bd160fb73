using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Routing;
using AigneHub.Contracts.Aliases;
using AigneHub.Data.Gateway;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Management;

/// <summary>
/// <c>/api/admin/aliases</c>: the model aliases every ingress resolves unprefixed names through (see
/// <see cref="ModelResolver"/>), the built-in defaults among them; owners and admins only. Every change makes all
/// replicas reload the provider snapshot, which carries the aliases.
/// </summary>
public static class ModelAliasAdminApi
{
    public const string Tag = "Admin: model aliases";

    public static RouteGroupBuilder MapModelAliasAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/aliases")
            .RequireAuthorization(AuthorizationPolicies.Admin)
            .WithTags(Tag)
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ErrorEnvelope), ["application/json"]));

        group.MapGet("", ListAliases).WithName("ListModelAliases").WithSummary("List the model aliases, exact names first.");
        group.MapPost("", CreateAlias).WithName("CreateModelAlias")
            .WithSummary("Add an alias: an exact name or a prefix pattern (claude-*) and its provider/model targets, in order.")
            .Accepts<ModelAliasRequest>("application/json");
        group.MapPut("/{id:guid}", UpdateAlias).WithName("UpdateModelAlias")
            .WithSummary("Change an alias (omitted fields keep their value).").Accepts<ModelAliasRequest>("application/json");
        group.MapDelete("/{id:guid}", DeleteAlias).WithName("DeleteModelAlias").WithSummary("Remove an alias.");
        return group;
    }

    internal static async Task<Ok<List<ModelAliasResponse>>> ListAliases([AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var aliases = await s.Db.Set<ModelAlias>().AsNoTracking().ToListAsync(cancellationToken);
        return TypedResults.Ok(aliases
            .OrderBy(a => ModelAliases.IsPattern(a.Name)).ThenBy(a => a.Name, StringComparer.Ordinal)
            .Select(ToResponse).ToList());
    }

    internal static async Task<Results<Created<ModelAliasResponse>, JsonHttpResult<ErrorEnvelope>>> CreateAlias(
        HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, AliasesJsonContext.Default.ModelAliasRequest);
        if (error is not null)
        {
            return error;
        }
        if (body!.Alias is null)
        {
            return ApiErrors.BadRequest("'alias' is required: a model name (claude-sonnet-4-5) or a prefix pattern (claude-*).", "alias");
        }
        if (body.Targets is null)
        {
            return ApiErrors.BadRequest("'targets' is required: provider/model names in order of preference.", "targets");
        }
        if (Validate(body) is { } invalid)
        {
            return invalid;
        }
        var now = s.Time.GetUtcNow();
        var alias = new ModelAlias
        {
            Name = body.Alias.Trim(),
            Targets = Normalize(body.Targets),
            Enabled = body.Enabled ?? true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        s.Db.Add(alias);
        if (!await ProviderAdminApi.TrySaveAsync(s.Db, cancellationToken))
        {
            return Duplicate(alias.Name);
        }
        await s.Changes.PublishAsync("alias");
        return TypedResults.Created($"/api/admin/aliases/{alias.Id}", ToResponse(alias));
    }

    internal static async Task<Results<Ok<ModelAliasResponse>, JsonHttpResult<ErrorEnvelope>>> UpdateAlias(
        Guid id, HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var alias = await s.Db.Set<ModelAlias>().FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (alias is null)
        {
            return ApiErrors.NotFound($"Alias {id} does not exist.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, AliasesJsonContext.Default.ModelAliasRequest);
        if (error is not null)
        {
            return error;
        }
        if (Validate(body!) is { } invalid)
        {
            return invalid;
        }
        alias.Name = body!.Alias?.Trim() ?? alias.Name;
        alias.Targets = body.Targets is null ? alias.Targets : Normalize(body.Targets);
        alias.Enabled = body.Enabled ?? alias.Enabled;
        alias.UpdatedAt = s.Time.GetUtcNow();
        if (!await ProviderAdminApi.TrySaveAsync(s.Db, cancellationToken))
        {
            return Duplicate(alias.Name);
        }
        await s.Changes.PublishAsync("alias");
        return TypedResults.Ok(ToResponse(alias));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> DeleteAlias(
        Guid id, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        if (await s.Db.Set<ModelAlias>().Where(a => a.Id == id).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return ApiErrors.NotFound($"Alias {id} does not exist.");
        }
        await s.Changes.PublishAsync("alias");
        return TypedResults.NoContent();
    }

    private static JsonHttpResult<ErrorEnvelope>? Validate(ModelAliasRequest body)
    {
        if (body.Alias is not null && ModelAliases.Validate(body.Alias.Trim()) is { } problem)
        {
            return ApiErrors.BadRequest($"'alias' {problem}.", "alias");
        }
        if (body.Alias is not null && ModelAliases.ValidateTarget(body.Alias.Trim()) is null)
        {
            // provider/model names resolve directly and never through an alias.
            return ApiErrors.BadRequest("'alias' must not start with a provider name: provider/model names are never aliased.", "alias");
        }
        if (body.Targets is { } targets)
        {
            if (targets.Count is 0 or > ModelAliases.MaxTargets)
            {
                return ApiErrors.BadRequest($"'targets' must hold 1 to {ModelAliases.MaxTargets} provider/model names.", "targets");
            }
            for (var i = 0; i < targets.Count; i++)
            {
                var targetProblem = targets[i] is null ? "must be a string" : ModelAliases.ValidateTarget(targets[i].Trim());
                if (targetProblem is not null)
                {
                    return ApiErrors.BadRequest($"'targets[{i}]' {targetProblem}.", $"targets[{i}]");
                }
            }
        }
        return null;
    }

    private static List<string> Normalize(List<string> targets) => [.. targets.Select(t => t.Trim()).Distinct(StringComparer.Ordinal)];

    private static JsonHttpResult<ErrorEnvelope> Duplicate(string name) =>
        ApiErrors.Conflict($"An alias '{name}' already exists.", "alias");

    private static ModelAliasResponse ToResponse(ModelAlias a) =>
        new(a.Id, a.Name, ModelAliases.IsPattern(a.Name), [.. a.Targets], a.Enabled, a.CreatedAt, a.UpdatedAt);
}
