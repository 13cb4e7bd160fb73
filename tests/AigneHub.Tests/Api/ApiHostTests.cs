using System.Net;
using AigneHub.Data;
using AigneHub.Data.Identity;
using AigneHub.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AigneHub.Tests.Api;

public sealed class ApiHostTests
{
    [Fact]
    public async Task Api_alone_migrates_its_database_and_seeds_the_owner_once_across_two_instances()
    {
        await using var first = await ApiFactory.StartAsync();
        // A second replica on the same database: migrations and the owner seeding must be idempotent.
        await using var second = await ApiFactory.StartAsync(first.DatabaseConnectionString);

        using var client = second.CreateClient(bearer: null);
        var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        await using var scope = first.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var owners = await db.Users.Where(u => u.Role == UserRole.Owner).Include(u => u.AccessKeys).ToListAsync();
        var owner = Assert.Single(owners);
        Assert.Single(owner.AccessKeys);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Api_does_not_load_the_data_protection_key_ring_at_start()
    {
        await using var api = await ApiFactory.StartAsync();

        // Nothing in the Api protects data; the key ring's start-up prefetch (XML, a key written to disk) only cost
        // memory (IdentityExtensions.AddIdentityServices removes it).
        Assert.DoesNotContain(api.Services.GetServices<IHostedService>(),
            s => s.GetType().Assembly == typeof(Microsoft.AspNetCore.DataProtection.DataProtectionOptions).Assembly);
    }
}
