using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>A prompt's token count: the provider's own answer, or the hub's estimate.</summary>
public sealed record TokenCount(ReadOnlyMemory<byte>? ProviderAnswer, int Estimate);

/// <summary>
/// Counting a chat request's prompt tokens (Anthropic's <c>count_tokens</c>): not a model call, so no admission, no
/// record and no charge. The first candidate whose provider counts this wire itself is asked (with a credential
/// from the pool, whose outcome is reported as for any call); otherwise, or when that provider is unavailable, the
/// hub's <see cref="TokenEstimator"/> answers. A provider refusing the request itself is the caller's error.
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
        var first = candidates[0];
        var estimate = TokenEstimator.Prompt(chat.Request).For(first.Kind);
        if (chat.Passthrough is not { } raw || adapters.TokenCounter(first.Kind.Protocol, raw.Wire) is not { } counter)
        {
            return new TokenCount(null, estimate);
        }

        CredentialLease? lease;
        try
        {
            lease = await credentials.AcquireAsync(first, cancellationToken);
        }
        catch (ProviderException)
        {
            return new TokenCount(null, estimate); // no usable credential right now: the estimate still answers
        }
        var endpoint = new ProviderEndpoint(first.Kind.Name, first.BaseUrl, lease?.Secret, http.Client) { Settings = first.Settings };
        try
        {
            var answer = await counter.CountTokensRawAsync(endpoint, new PassthroughRequest(first.Model, raw.Body, null, raw.Headers), cancellationToken);
            await ReportAsync(first, lease, null);
            return new TokenCount(answer, estimate);
        }
        catch (ProviderException ex)
        {
            await ReportAsync(first, lease, ex);
            if (ex.ErrorClass is ProviderErrorClass.BadRequest or ProviderErrorClass.ModelNotFound)
            {
                throw GatewayErrors.FromProvider(ex);
            }
            return new TokenCount(null, estimate);
        }
    }

    private async Task ReportAsync(ModelTarget target, CredentialLease? lease, ProviderException? error)
    {
        if (lease is not null)
        {
            await credentials.ReportAsync(target, lease, error, CancellationToken.None);
        }
    }
}
