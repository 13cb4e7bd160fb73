using AigneHub.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// :: Step 1: infrastructure — containers where a runtime answers (always in publish mode), else local processes.
var infra = builder.AddInfrastructure();

// :: Step 2: the bootstrap owner's access key (secret; generated and printed once in development).
var ownerKey = builder.AddOwnerKey();

// :: Step 3: the services, each started only once what it needs is healthy.
var api = builder.AddProject<Projects.AigneHub_Api>("api")
    .WithReference(infra.Database).WaitFor(infra.Database)
    .WithReference(infra.Redis).WaitFor(infra.Redis)
    .WithEnvironment("AigneHub__Bootstrap__OwnerKey", ownerKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// The Api owns migrations and reports Degraded until they are applied, so waiting for it waits for the schema.
builder.AddProject<Projects.AigneHub_Worker>("worker")
    .WithReference(infra.Database)
    .WithReference(infra.Redis)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.AigneHub_Admin>("admin")
    .WithReference(api).WaitFor(api)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

builder.Build().Run();
