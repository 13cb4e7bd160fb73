namespace AigneHub.Data.Billing;

/// <summary>The rates of one provider+model+type as the money path uses them (a snapshot of <see cref="ModelRate"/>).</summary>
public sealed record RateCard(
    Guid Id,
    string Provider,
    string Model,
    ModelType Type,
    decimal InputRate,
    decimal OutputRate,
    decimal? CacheWriteRate,
    decimal? CacheReadRate,
    bool Deprecated = false)
{
    /// <summary>Audio: credits per character spoken.</summary>
    public decimal? CharacterRate { get; init; }

    /// <summary>Audio: credits per second heard.</summary>
    public decimal? SecondRate { get; init; }

    /// <summary>Image: prices per image by size and/or quality (see <see cref="PerImage"/>); null when the rate has none.</summary>
    public IReadOnlyList<ImagePrice>? ImagePrices { get; init; }

    /// <summary>
    /// Credits per image of <paramref name="size"/> and <paramref name="quality"/>: the most specific entry of
    /// <see cref="ImagePrices"/> that matches (size and quality, else size only, else quality only; compared
    /// case-insensitively; an entry's absent half matches anything), else the plain <see cref="OutputRate"/>. A call
    /// that names no size matches no entry with a size.
    /// </summary>
    public decimal PerImage(string? size, string? quality)
    {
        ImagePrice? best = null;
        var bestRank = 0;
        foreach (var entry in ImagePrices ?? [])
        {
            if ((entry.Size is null || Same(entry.Size, size)) && (entry.Quality is null || Same(entry.Quality, quality)))
            {
                var rank = (entry.Size is null ? 0 : 2) + (entry.Quality is null ? 0 : 1);
                if (rank > bestRank)
                {
                    (best, bestRank) = (entry, rank);
                }
            }
        }
        return best?.Price ?? OutputRate;

        static bool Same(string stated, string? asked) => asked is not null && string.Equals(stated, asked.Trim(), StringComparison.OrdinalIgnoreCase);
    }

    public static RateCard Of(ModelRate rate) =>
        new(rate.Id, rate.Provider, rate.Model, rate.Type, rate.InputRate, rate.OutputRate, rate.CacheWriteRate, rate.CacheReadRate, rate.Deprecated)
        {
            CharacterRate = rate.CharacterRate,
            SecondRate = rate.SecondRate,
            ImagePrices = rate.ImagePrices,
        };
}

/// <summary>
/// What a call used, in the units its rate is priced in. <see cref="PromptTokens"/> is the whole prompt, cached
/// tokens INCLUDED (the neutral convention every provider adapter maps its usage to, once); the cache counts say
/// how much of it was written to or read from the provider's prompt cache. Audio is metered in
/// <see cref="Characters"/> spoken and <see cref="AudioSeconds"/> heard; images by their count, each priced by its
/// <see cref="ImageSize"/> and <see cref="ImageQuality"/> (<see cref="RateCard.PerImage"/>).
/// </summary>
public readonly record struct MeteredUsage(
    long PromptTokens,
    long CompletionTokens,
    long CacheCreationTokens = 0,
    long CacheReadTokens = 0,
    long Images = 0,
    decimal VideoSeconds = 0,
    long Characters = 0,
    decimal AudioSeconds = 0,
    string? ImageSize = null,
    string? ImageQuality = null);

/// <summary>
/// The credit formula, exactly, in <see cref="decimal"/>: the output (<c>images × price per image</c> for image models —
/// the rate's size/quality table entry, else its output rate, <see cref="RateCard.PerImage"/> —
/// <c>seconds × outputRate</c> for video, else <c>completionTokens × outputRate</c>), plus the prompt priced once per
/// token by how it was served — fresh tokens (<c>prompt − cacheWrites − cacheReads</c>) at the input rate, cache
/// writes at the write rate (else the input rate), cache reads at the read rate (else the input rate) — rounded half
/// away from zero to 10 decimal places. A provider reporting more cached tokens than prompt tokens is charged for
/// the cached ones and no fresh ones, never a negative amount. Audio is <c>characters × characterRate + seconds ×
/// secondRate</c> (an absent rate prices its unit at zero); tokens an audio provider reports are recorded, not priced.
/// </summary>
public static class CreditFormula
{
    public const int Decimals = 10;

    public static decimal Compute(RateCard rate, MeteredUsage usage)
    {
        if (rate.Type == ModelType.Audio)
        {
            return Math.Round(usage.Characters * (rate.CharacterRate ?? 0) + usage.AudioSeconds * (rate.SecondRate ?? 0),
                Decimals, MidpointRounding.AwayFromZero);
        }
        var output = rate.Type switch
        {
            ModelType.Image => usage.Images * rate.PerImage(usage.ImageSize, usage.ImageQuality),
            ModelType.Video => usage.VideoSeconds * rate.OutputRate,
            _ => usage.CompletionTokens * rate.OutputRate,
        };
        var fresh = Math.Max(0, usage.PromptTokens - usage.CacheCreationTokens - usage.CacheReadTokens);
        var total = output
            + fresh * rate.InputRate
            + usage.CacheCreationTokens * (rate.CacheWriteRate ?? rate.InputRate)
            + usage.CacheReadTokens * (rate.CacheReadRate ?? rate.InputRate);
        return Math.Round(total, Decimals, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// The most a prompt of <paramref name="promptTokens"/> can cost, however the provider serves it from its cache:
    /// every token at the dearest of the input and cache-write rates (a cache write may cost more than fresh input,
    /// e.g. Anthropic's 1.25× and 2×). Used for reservations.
    /// </summary>
    public static MeteredUsage WorstCasePrompt(RateCard rate, long promptTokens, long completionTokens) =>
        rate.CacheWriteRate > rate.InputRate
            ? new MeteredUsage(promptTokens, completionTokens, CacheCreationTokens: promptTokens)
            : new MeteredUsage(promptTokens, completionTokens);
}
