using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>A prompt's token count: the provider's own answer, or the hub's estimate.</summary>
public sealed record TokenCount(ReadOnlyMemory<byte>? ProviderAnswer, int Estimate);

/// <summary>
/// Counting a chat request's prompt tokens (Anthropic's <c>count_tokens</c>): not a model call, so no admission, no
/// record and no charge. The candidates whose provider counts this wire itself are asked in order, each with up to
/// <see cref="GatewayPipeline.CredentialsPerTarget"/> of its credentials while a failure is the credential's own (a 401 or 429 takes
/// it out of the rotation, so the next acquire picks another), as a call would fail over; each outcome is reported
/// to the pool. When none answers, the hub's <see cref="TokenEstimator"/> does, for the first candidate. A provider
/// refusing the request itself is the caller's error.
/// </summary>
public sealed class TokenCountRunner(IModelResolver resolver, ICredentialPool credentials, ProviderAdapters adapters, ProviderHttp http)
{
    public async Task<TokenCount> CountAsync(ChatCall chat, CancellationToken cancellationToken)
    {
        var candidates = await resolver.ResolveAsync(chat.Request.Model, ModelType.Chat, cancellationToken);
        if (candidates.Count == 0)
        {
            throw GatewayErrors.NoSuchModel(chat.Request.Model);
        }
        var estimate = TokenEstimator.Prompt(chat.Request).For(candidates[0].Kind);
        if (chat.Passthrough is not { } raw)
        {
            return new TokenCount(null, estimate);
        }
        foreach (var target in candidates)
        {
            if (adapters.TokenCounter(target.Kind.Protocol, raw.Wire) is not { } counter)
            {
                continue;
            }
            HashSet<Guid> tried = [];
            for (var attempt = 0; attempt < GatewayPipeline.CredentialsPerTarget; attempt++)
            {
                CredentialLease? lease;
                try
                {
                    lease = await credentials.AcquireAsync(target, cancellationToken);
                }
                catch (ProviderException)
                {
                    break; // no usable credential here right now: the next candidate, or the estimate
                }
                if (lease is not null && !tried.Add(lease.CredentialId))
                {
                    break; // the pool offers one already tried: none other is left
                }
                var endpoint = new ProviderEndpoint(target.Kind.Name, target.BaseUrl, lease?.Secret, http.Client) { Settings = target.Settings };
                try
                {
                    var answer = await counter.CountTokensRawAsync(endpoint, new PassthroughRequest(target.Model, raw.Body, null, raw.Headers), cancellationToken);
                    await ReportAsync(target, lease, null);
                    return new TokenCount(answer, estimate);
                }
                catch (ProviderException ex)
                {
                    await ReportAsync(target, lease, ex);
                    if (ex.ErrorClass is ProviderErrorClass.BadRequest or ProviderErrorClass.ModelNotFound)
                    {
                        throw GatewayErrors.FromProvider(ex);
                    }
                    if (lease is null || ex.ErrorClass is not (ProviderErrorClass.InvalidCredential or ProviderErrorClass.RateLimited))
                    {
                        break; // another credential would not help
                    }
                }
            }
        }
        return new TokenCount(null, estimate);
    }

    private async Task ReportAsync(ModelTarget target, CredentialLease? lease, ProviderException? error)
    {
        if (lease is not null)
        {
            await credentials.ReportAsync(target, lease, error, CancellationToken.None);
        }
    }
}
