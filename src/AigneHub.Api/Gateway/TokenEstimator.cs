namespace AigneHub.Api.Gateway;

/// <summary>
/// A cheap, deliberately pessimistic token estimate (about 3 characters per token, never less than 1) for credit
/// reservations before the call and for usage when a provider reports none. Real usage always wins when known.
/// </summary>
public static class TokenEstimator
{
    public static int FromCharacters(long characters) => characters <= 0 ? 0 : (int)Math.Min(int.MaxValue, (characters + 2) / 3);
}
