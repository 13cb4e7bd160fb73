using System.Runtime.CompilerServices;

namespace AigneHub.Api.Providers.Demo;

/// <summary>
/// DEVELOPMENT ONLY: a built-in provider (<c>demo/echo</c>) that answers without any network or key, so a new
/// user who starts the stack with no provider configured can make a chat call end to end at once. It streams a
/// short canned answer that quotes the last user message, word by word, and reports honest usage estimates.
/// On by default only in Development (<c>AigneHub:Providers:Demo:Enabled</c>); never in a published deployment.
/// </summary>
public sealed class DemoChatAdapter(TimeProvider time) : IChatAdapter
{
    public const string Model = "echo";
    private static readonly TimeSpan WordDelay = TimeSpan.FromMilliseconds(15);

    public Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
    {
        var text = Answer(request);
        return Task.FromResult(new ChatResponse
        {
            Id = $"demo-{Guid.NewGuid():N}",
            Model = request.Model,
            Text = text,
            FinishReason = FinishReason.Stop,
            Usage = Usage(request, text),
        });
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var text = Answer(request);
        var words = text.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            yield return new ChatStreamUpdate { Model = request.Model, TextDelta = i == 0 ? words[i] : " " + words[i] };
            await Task.Delay(WordDelay, time, cancellationToken);
        }
        yield return new ChatStreamUpdate { FinishReason = FinishReason.Stop, Usage = Usage(request, text) };
    }

    private static string Answer(ChatRequest request)
    {
        var last = request.Messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        if (last.Length > 200)
        {
            last = last[..200] + "…";
        }
        return $"Hello from the AigneHub demo provider. You said: \"{last}\". Configure a real provider in the admin to get real answers.";
    }

    private static TokenUsage Usage(ChatRequest request, string answer) => new()
    {
        InputTokens = TokenEstimator.Prompt(request).For(ProviderKinds.Demo),
        OutputTokens = TokenEstimator.FromCharacters(answer.Length),
    };
}
