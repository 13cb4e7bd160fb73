using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Contracts.Billing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>Turns a provider's price into a credit rate.</summary>
public static class RateMargins
{
    /// <summary><c>rate = unitCost × (1 + margin%) / creditPrice</c>, rounded to the rate precision (18 places).</summary>
    /// <param name="unitCost">What the provider charges per unit (token, image, second), in money.</param>
    /// <param name="marginPercent">The margin on top, in percent (20 = +20 %).</param>
    /// <param name="creditPrice">What one credit sells for, in the same money.</param>
    public static decimal RateFor(decimal unitCost, decimal marginPercent, decimal creditPrice)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(creditPrice);
        return Math.Round(unitCost * (1 + marginPercent / 100m) / creditPrice, 18, MidpointRounding.AwayFromZero);
    }
}

/// <summary>
/// <c>/api/admin/model-rates</c>: what each provider+model+type costs in credits. Every change writes a history
/// row in the same transaction and tells every Api replica to reload its rate cache. Errors use the admin routes'
/// common shape <c>{"error":{"message","type","param"}}</c> (<see cref="ApiErrors"/>).
/// </summary>
public static partial class ModelRatesApi
{
    private const decimal MaxRate = RateLimits.MaxPerUnit;
    private const int RateScale = RateLimits.MaxDecimalPlaces;
    private const int MaxImagePrices = 64;

    public static RouteGroupBuilder MapModelRatesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/model-rates").RequireAuthorization(AuthorizationPolicies.Admin).WithTags("Model rates");
        group.MapGet("", ListAsync).WithName("ListModelRates").WithSummary("All model rates (filter by provider, type).");
        group.MapPost("", CreateAsync).WithName("CreateModelRate").WithSummary("Adds the rate of a provider+model+type.");
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateModelRate").WithSummary("Replaces a rate.");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteModelRate").WithSummary("Removes a rate (the model becomes unsupported while billing is on).");
        group.MapGet("/{id:guid}/history", HistoryAsync).WithName("GetModelRateHistory").WithSummary("Every change of a rate, newest first.");
        return group;
    }

    private static async Task<Ok<List<ModelRateResponse>>> ListAsync(AigneHubDbContext db, CancellationToken cancellationToken, string? provider = null, string? type = null)
    {
        var query = db.Set<ModelRate>().AsNoTracking();
        if (!string.IsNullOrWhiteSpace(provider))
        {
            var p = provider.Trim().ToLowerInvariant();
            query = query.Where(r => r.Provider == p);
        }
        if (type is not null && Enum.TryParse<ModelType>(type, ignoreCase: true, out var t))
        {
            query = query.Where(r => r.Type == t);
        }
        var rates = await query.OrderBy(r => r.Provider).ThenBy(r => r.Model).ThenBy(r => r.Type).ToListAsync(cancellationToken);
        return TypedResults.Ok(rates.Select(ToResponse).ToList());
    }

    private static async Task<Results<Created<ModelRateResponse>, JsonHttpResult<ErrorEnvelope>>> CreateAsync(
        HttpRequest request, ClaimsPrincipal admin, AigneHubDbContext db, IRateCatalog catalog, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return error!;
        }
        var now = time.GetUtcNow();
        var rate = new ModelRate { Provider = "", Model = "", CreatedAt = now, UpdatedAt = now };
        if (!Apply(body, rate))
        {
            return ApiErrors.BadRequest(body.Errors);
        }
        db.Add(rate);
        db.Add(ModelRateHistory.Of(rate, RateChange.Created, admin.GetUserId(), now));
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return Duplicate(rate);
        }
        await catalog.InvalidateAsync();
        return TypedResults.Created($"/api/admin/model-rates/{rate.Id}", ToResponse(rate));
    }

    private static async Task<Results<Ok<ModelRateResponse>, JsonHttpResult<ErrorEnvelope>>> UpdateAsync(
        Guid id, HttpRequest request, ClaimsPrincipal admin, AigneHubDbContext db, IRateCatalog catalog, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return error!;
        }
        var rate = await db.Set<ModelRate>().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (rate is null)
        {
            return RateNotFound(id);
        }
        if (!Apply(body, rate))
        {
            return ApiErrors.BadRequest(body.Errors);
        }
        var now = time.GetUtcNow();
        rate.UpdatedAt = now;
        db.Add(ModelRateHistory.Of(rate, RateChange.Updated, admin.GetUserId(), now));
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return Duplicate(rate);
        }
        await catalog.InvalidateAsync();
        return TypedResults.Ok(ToResponse(rate));
    }

    private static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> DeleteAsync(
        Guid id, ClaimsPrincipal admin, AigneHubDbContext db, IRateCatalog catalog, TimeProvider time, CancellationToken cancellationToken)
    {
        var rate = await db.Set<ModelRate>().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (rate is null)
        {
            return RateNotFound(id);
        }
        db.Remove(rate);
        db.Add(ModelRateHistory.Of(rate, RateChange.Deleted, admin.GetUserId(), time.GetUtcNow()));
        await db.SaveChangesAsync(cancellationToken);
        await catalog.InvalidateAsync();
        return TypedResults.NoContent();
    }

    private static async Task<Ok<List<ModelRateHistoryResponse>>> HistoryAsync(Guid id, AigneHubDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Set<ModelRateHistory>().AsNoTracking().Where(h => h.RateId == id)
            .OrderByDescending(h => h.ChangedAt).ThenByDescending(h => h.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(h => new ModelRateHistoryResponse(h.Id, h.RateId, BillingModel.Word(h.Change), h.Provider, h.Model,
            BillingModel.Word(h.Type), h.InputRate, h.OutputRate, h.CacheWriteRate,
            h.CacheReadRate, h.UnitCosts, h.Metadata, h.Deprecated, h.ChangedBy, h.ChangedAt, h.CharacterRate, h.SecondRate,
            Entries(h.ImagePrices))).ToList());
    }

    /// <summary>
    /// Validates the body into <paramref name="rate"/>. Rates are given directly, or derived from
    /// <c>unitCosts</c> with <c>margin: {percent, creditPrice}</c> (<see cref="RateMargins.RateFor"/>).
    /// </summary>
    private static bool Apply(JsonBody body, ModelRate rate)
    {
        var providerName = body.String("provider", required: true, maxLength: 64);
        if (providerName is not null && ProviderKinds.Find(providerName) is null)
        {
            body.Error("provider", $"Unknown provider '{providerName}'. Known: {string.Join(", ", ProviderKinds.Configurable.Select(k => k.Name))}, demo.");
        }
        var model = body.String("model", required: true, maxLength: 200);
        var typeText = body.String("type", required: true, maxLength: 16);
        ModelType type = default;
        if (typeText is not null && (!Enum.TryParse(typeText, ignoreCase: true, out type) || !Enum.IsDefined(type) || int.TryParse(typeText, out _)))
        {
            body.Error("type", "'type' must be one of chat, embedding, image, video, audio.");
        }
        // Audio is priced per character and per second; its token rates are optional (and not charged).
        var tokenRatesRequired = type != ModelType.Audio;

        JsonObject? unitCosts = null;
        decimal? unitInput = null, unitOutput = null;
        if (body.Object("unitCosts") is { } costs)
        {
            var costBody = new JsonBody(costs);
            unitInput = costBody.Decimal("input", required: false, 0, MaxRate, RateScale);
            unitOutput = costBody.Decimal("output", required: false, 0, MaxRate, RateScale);
            foreach (var (field, messages) in costBody.Errors)
            {
                body.Errors[$"unitCosts.{field}"] = messages;
            }
            unitCosts = new JsonObject();
            if (unitInput is { } ui)
            {
                unitCosts["input"] = BillingModel.Format(ui);
            }
            if (unitOutput is { } uo)
            {
                unitCosts["output"] = BillingModel.Format(uo);
            }
        }

        decimal? marginPercent = null, creditPrice = null;
        if (body.Object("margin") is { } margin)
        {
            var marginBody = new JsonBody(margin);
            marginPercent = marginBody.Decimal("percent", required: true, -100, 100_000, 10);
            creditPrice = marginBody.Decimal("creditPrice", required: true, 0, MaxRate, RateScale);
            if (creditPrice == 0)
            {
                marginBody.Error("creditPrice", "'creditPrice' must be greater than 0.");
            }
            foreach (var (field, messages) in marginBody.Errors)
            {
                body.Errors[$"margin.{field}"] = messages;
            }
        }

        var derive = marginPercent is not null && creditPrice is > 0;
        var inputRate = body.Has("inputRate") || !derive || unitInput is null
            ? body.Decimal("inputRate", required: tokenRatesRequired, 0, MaxRate, RateScale) ?? 0
            : RateMargins.RateFor(unitInput.Value, marginPercent!.Value, creditPrice!.Value);
        var outputRate = body.Has("outputRate") || !derive || unitOutput is null
            ? body.Decimal("outputRate", required: tokenRatesRequired, 0, MaxRate, RateScale) ?? 0
            : RateMargins.RateFor(unitOutput.Value, marginPercent!.Value, creditPrice!.Value);
        var characterRate = body.Decimal("characterRate", required: false, 0, MaxRate, RateScale);
        var secondRate = body.Decimal("secondRate", required: false, 0, MaxRate, RateScale);
        var cacheWrite = body.Decimal("cacheWriteRate", required: false, 0, MaxRate, RateScale);
        var cacheRead = body.Decimal("cacheReadRate", required: false, 0, MaxRate, RateScale);
        var imagePrices = ReadImagePrices(body, type);
        var metadata = body.Object("metadata");
        var deprecated = body.Bool("deprecated");
        if (body.Errors.Count > 0)
        {
            return false;
        }

        rate.Provider = ProviderKinds.Find(providerName!)!.Name;
        rate.Model = model!;
        rate.Type = type;
        rate.InputRate = inputRate;
        rate.OutputRate = outputRate;
        rate.CharacterRate = characterRate;
        rate.SecondRate = secondRate;
        rate.CacheWriteRate = cacheWrite;
        rate.CacheReadRate = cacheRead;
        rate.ImagePrices = imagePrices;
        rate.UnitCosts = unitCosts;
        rate.Metadata = metadata is { } m ? JsonNode.Parse(m.GetRawText())!.AsObject() : null;
        rate.Deprecated = deprecated ?? false;
        return true;
    }

    /// <summary>
    /// The optional <c>imagePrices</c> of an image rate: entries of a size and/or a quality with a price per image,
    /// no two for the same size and quality (compared case-insensitively, as they are matched). Each problem is
    /// named by its entry (<c>imagePrices[2].size</c>). An empty table is no table.
    /// </summary>
    private static List<ImagePrice>? ReadImagePrices(JsonBody body, ModelType type)
    {
        const string Field = "imagePrices";
        if (!body.Has(Field))
        {
            return null;
        }
        var value = body.Root.GetProperty(Field);
        if (type != ModelType.Image)
        {
            body.Error(Field, $"'{Field}' applies to image rates only.");
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxImagePrices)
        {
            body.Error(Field, $"'{Field}' must be an array of at most {MaxImagePrices} entries {{size, quality, price}}.");
            return null;
        }
        var table = new List<ImagePrice>();
        var seen = new HashSet<(string, string)>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = $"{Field}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                body.Error(at, $"'{at}' must be an object {{size, quality, price}}.");
                continue;
            }
            var entry = new JsonBody(item);
            var size = entry.String("size", required: false, maxLength: 32);
            var quality = entry.String("quality", required: false, maxLength: 32);
            var price = entry.Decimal("price", required: true, 0, MaxRate, RateScale);
            if (size is not null && !ImageSizePattern().IsMatch(size))
            {
                entry.Error("size", $"'{at}.size' must be WIDTHxHEIGHT (1024x1024), auto, or a resolution such as 2K.");
            }
            if (quality is not null && !ImageQualityPattern().IsMatch(quality))
            {
                entry.Error("quality", $"'{at}.quality' must be one word of letters, digits, '-' or '_' (hd, high).");
            }
            foreach (var (field, messages) in entry.Errors)
            {
                body.Errors[$"{at}.{field}"] = [.. messages.Select(m => $"{at}: {m}")];
            }
            if (entry.Errors.Count > 0)
            {
                continue;
            }
            if (size is null && quality is null)
            {
                body.Error(at, $"'{at}' must name a size, a quality or both (an image matching no entry costs outputRate).");
            }
            else if (!seen.Add((size?.ToUpperInvariant() ?? "", quality?.ToUpperInvariant() ?? "")))
            {
                body.Error(at, $"'{at}' repeats the size and quality of an earlier entry.");
            }
            else
            {
                table.Add(new ImagePrice(size, quality, price!.Value));
            }
        }
        return table.Count > 0 ? table : null;
    }

    [GeneratedRegex(@"^(?:[0-9]{1,5}x[0-9]{1,5}|auto|[0-9]{1,2}k)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ImageSizePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex ImageQualityPattern();

    private static List<ImagePriceEntry>? Entries(IReadOnlyList<ImagePrice>? table) =>
        table?.Select(p => new ImagePriceEntry(p.Size, p.Quality, p.Price)).ToList();

    private static async Task<bool> TrySaveAsync(AigneHubDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return false;
        }
    }

    private static JsonHttpResult<ErrorEnvelope> Duplicate(ModelRate rate) => ApiErrors.Conflict(
        $"A rate for {rate.Provider}/{rate.Model} ({BillingModel.Word(rate.Type)}) already exists.", "model");

    private static JsonHttpResult<ErrorEnvelope> RateNotFound(Guid id) => ApiErrors.NotFound($"Model rate '{id}' not found.");

    private static ModelRateResponse ToResponse(ModelRate r) => new(r.Id, r.Provider, r.Model, BillingModel.Word(r.Type),
        r.InputRate, r.OutputRate, r.CacheWriteRate, r.CacheReadRate,
        r.UnitCosts, r.Metadata, r.Deprecated, r.CreatedAt, r.UpdatedAt, r.CharacterRate, r.SecondRate, Entries(r.ImagePrices));
}
