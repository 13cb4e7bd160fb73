using AigneHub.Api.Infrastructure;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Providers.Demo;

/// <summary>
/// With the demo provider on (Development only), gives <c>demo/echo</c> an explicit zero rate, so the first call of
/// a new stack works with credit billing on. It is a rate like any other — written, visible, editable — not an
/// exception in the money path (no model is ever served at a silent zero price).
/// </summary>
internal sealed class DemoRateSeeder(TimeProvider time) : IStartupSeeder
{
    public async Task SeedAsync(AigneHubDbContext db, CancellationToken cancellationToken)
    {
        var exists = await db.Set<ModelRate>().AnyAsync(
            r => r.Provider == ProviderKinds.Demo.Name && r.Model == DemoChatAdapter.Model && r.Type == ModelType.Chat, cancellationToken);
        if (exists)
        {
            return;
        }
        var now = time.GetUtcNow();
        var rate = new ModelRate
        {
            Provider = ProviderKinds.Demo.Name,
            Model = DemoChatAdapter.Model,
            Type = ModelType.Chat,
            InputRate = 0m,
            OutputRate = 0m,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Set<ModelRate>().Add(rate);
        // Its history starts like every rate's, with its creation (by the system: no user).
        db.Add(ModelRateHistory.Of(rate, RateChange.Created, changedBy: null, now));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear(); // another replica seeded it
        }
    }
}
