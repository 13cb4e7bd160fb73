using AigneHub.Api.Infrastructure;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Identity;

/// <summary>Configuration <c>AigneHub:Bootstrap</c>: the first owner, who can then create everyone else.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "AigneHub:Bootstrap";
    public const int MinimumKeyLength = 16;

    /// <summary>The owner's access key (the AppHost's secret parameter <c>owner-key</c>).</summary>
    public string? OwnerKey { get; set; }

    public string OwnerEmail { get; set; } = "owner@aignehub.local";
}

internal sealed class ValidateBootstrapOptions : IValidateOptions<BootstrapOptions>
{
    public ValidateOptionsResult Validate(string? name, BootstrapOptions options)
    {
        List<string> problems = [];
        if (string.IsNullOrWhiteSpace(options.OwnerKey))
        {
            problems.Add($"{BootstrapOptions.Section}:OwnerKey is required (the bootstrap owner's access key; the AppHost passes its 'owner-key' parameter).");
        }
        else if (options.OwnerKey.Length < BootstrapOptions.MinimumKeyLength || options.OwnerKey.Any(char.IsWhiteSpace))
        {
            problems.Add($"{BootstrapOptions.Section}:OwnerKey must be at least {BootstrapOptions.MinimumKeyLength} characters with no whitespace.");
        }
        if (string.IsNullOrWhiteSpace(options.OwnerEmail) || !options.OwnerEmail.Contains('@'))
        {
            problems.Add($"{BootstrapOptions.Section}:OwnerEmail must be an email address.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// Makes sure an owner exists and holds the configured owner key. Idempotent and safe when several replicas start
/// at once (the key hash is unique; the loser of the race sees the winner's row).
/// </summary>
internal sealed class BootstrapOwnerSeeder(IOptions<BootstrapOptions> options, TimeProvider time) : IStartupSeeder
{
    public async Task SeedAsync(AigneHubDbContext db, CancellationToken cancellationToken)
    {
        var key = options.Value.OwnerKey!;
        var hash = AccessKeySecrets.Hash(key);
        if (await db.AccessKeys.AnyAsync(k => k.Hash == hash, cancellationToken))
        {
            return;
        }

        var now = time.GetUtcNow();
        var owner = await db.Users.Where(u => u.Role == UserRole.Owner).OrderBy(u => u.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (owner is null)
        {
            owner = new User
            {
                Email = options.Value.OwnerEmail.Trim().ToLowerInvariant(),
                DisplayName = "Owner",
                Role = UserRole.Owner,
                CreatedAt = now,
            };
            db.Users.Add(owner);
        }
        db.AccessKeys.Add(new AccessKey
        {
            UserId = owner.Id,
            Name = "bootstrap owner key",
            Prefix = AccessKeySecrets.Prefix(key),
            Hash = hash,
            CreatedAt = now,
            Scope = AccessKeyScope.Full,
        });

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another replica seeded the same owner or key first: the state we wanted exists.
            db.ChangeTracker.Clear();
        }
    }
}

public static class BootstrapExtensions
{
    public static IHostApplicationBuilder AddBootstrap(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BootstrapOptions>, ValidateBootstrapOptions>();
        builder.Services.AddSingleton<IStartupSeeder, BootstrapOwnerSeeder>();
        return builder;
    }
}
