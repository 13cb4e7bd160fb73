namespace AigneHub.Admin.Setup;

/// <summary>One step of the first-run checklist: done or not, and the page where it is done.</summary>
public sealed record SetupStep(string Id, string Title, bool Done, string Href, string Hint);

/// <summary>What the Overview's checklist is computed from; each part is what the Api already reports.</summary>
public sealed record SetupFacts(
    IReadOnlyList<ProviderResponse> Providers,
    ModelSetupResponse Models,
    decimal MyAvailableCredits,
    bool AnySuccessfulCall);

/// <summary>
/// The Overview's first-run checklist — provider → credential → model → rate → credits → test call — shown until
/// every step is done. The demo model is not a step: it proves the hub runs, not that a provider is set up.
/// </summary>
public static class SetupChecklist
{
    /// <summary>Providers that answer without a key (the Api's <c>ProviderKind.RequiresKey</c> is false for these).</summary>
    private static readonly string[] Keyless = ["ollama"];

    public static IReadOnlyList<SetupStep> Build(SetupFacts facts)
    {
        var providers = facts.Providers.Where(p => p.Enabled).ToList();
        var models = facts.Models.Models.Where(m => m.Id is not null && m.Enabled).ToList();
        var billing = facts.Models.BillingEnabled;
        return
        [
            new("provider", "Add a provider", providers.Count > 0, "/providers",
                "Pick one (OpenAI, Anthropic, Gemini, …); a base URL only for a self-hosted or proxied one."),
            new("credential", "Give it a credential", providers.Any(p => p.ActiveCredentialCount > 0 || Keyless.Contains(p.Name)), "/providers",
                "The provider's API key, stored encrypted; Test makes a one-token call."),
            new("model", "Add a model", models.Count > 0, "/models",
                "From the provider's own model list; callers then name it provider/model."),
            new("rate", billing ? "Set its rate" : "Set its rate (optional: credit billing is off)",
                !billing || models.Any(m => m.RateId is not null), "/models",
                "Credits per 1M input and output tokens; with credit billing on, a model without a rate is refused."),
            new("credits", billing ? "Grant yourself credits" : "Credits (not needed: credit billing is off)",
                !billing || facts.MyAvailableCredits > 0, "/users",
                "Users & credits → your account → Credits. Every call, yours too, is paid from them."),
            new("call", "Make a test call", facts.AnySuccessfulCall, "/playground",
                "A streamed answer in the Playground, then its cost here, in Usage analytics and the Call log."),
        ];
    }
}
