namespace AigneHub.Api.Providers;

/// <summary>
/// A cheap, deliberately pessimistic token estimate (about 3 characters per token, never less than 1) for credit
/// reservations before the call and for usage when a provider reports none. Real usage always wins when known.
/// Neutral: the gateway reserves with it, adapters that count nothing themselves (the demo) report with it.
/// </summary>
public static class TokenEstimator
{
    public static int FromCharacters(long characters) => characters <= 0 ? 0 : (int)Math.Min(int.MaxValue, (characters + 2) / 3);

    /// <summary>Prompt size of a chat request: all text, tool definitions, and a flat cost per image.</summary>
    public static int Prompt(ChatRequest request)
    {
        const int tokensPerImage = 1000;
        long characters = 0;
        var images = 0;
        foreach (var message in request.Messages)
        {
            foreach (var part in message.Content)
            {
                if (part is TextPart text)
                {
                    characters += text.Text.Length;
                }
                else
                {
                    images++;
                }
            }
            characters += message.ToolCalls?.Sum(c => c.Arguments.Length + c.Name.Length) ?? 0;
        }
        characters += request.Tools?.Sum(t => t.Name.Length + (t.Description?.Length ?? 0) + (t.Parameters?.GetRawText().Length ?? 0)) ?? 0;
        return FromCharacters(characters) + images * tokensPerImage;
    }
}
