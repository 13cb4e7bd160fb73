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
    public static RateCard Of(ModelRate rate) =>
        new(rate.Id, rate.Provider, rate.Model, rate.Type, rate.InputRate, rate.OutputRate, rate.CacheWriteRate, rate.CacheReadRate, rate.Deprecated);
}

/// <summary>What a call used, in the units its rate is priced in.</summary>
public readonly record struct MeteredUsage(
    long PromptTokens,
    long CompletionTokens,
    long CacheCreationTokens = 0,
    long CacheReadTokens = 0,
    long Images = 0,
    decimal VideoSeconds = 0);

/// <summary>
/// The reference's credit formula, exactly, in <see cref="decimal"/>:
/// <c>images × outputRate</c> (image models), <c>seconds × outputRate</c> (video), else
/// <c>completionTokens × outputRate</c>; plus <c>promptTokens × inputRate</c>; plus cache writes at the write rate
/// (else the input rate) and cache reads at the read rate (else the input rate); rounded to 10 decimal places.
/// </summary>
public static class CreditFormula
{
    public const int Decimals = 10;

    public static decimal Compute(RateCard rate, MeteredUsage usage)
    {
        var output = rate.Type switch
        {
            ModelType.Image => usage.Images * rate.OutputRate,
            ModelType.Video => usage.VideoSeconds * rate.OutputRate,
            _ => usage.CompletionTokens * rate.OutputRate,
        };
        var total = output
            + usage.PromptTokens * rate.InputRate
            + usage.CacheCreationTokens * (rate.CacheWriteRate ?? rate.InputRate)
            + usage.CacheReadTokens * (rate.CacheReadRate ?? rate.InputRate);
        return Math.Round(total, Decimals, MidpointRounding.AwayFromZero);
    }
}
