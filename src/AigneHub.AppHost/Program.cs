using AigneHub.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// :: Step 1: infrastructure — containers where a runtime answers (always in publish mode), else local processes.
var infra = builder.AddInfrastructure();

// :: Step 2: secrets — the bootstrap owner's access key (printed once when generated in development) and the
//    master key that encrypts provider credentials at rest.
var ownerKey = builder.AddOwnerKey();
var masterKey = builder.AddMasterKey();

// :: Step 3: the services, each started only once what it needs is healthy.
var api = builder.AddProject<Projects.AigneHub_Api>("api")
    .WithReference(infra.Database).WaitFor(infra.Database)
    .WithReference(infra.Redis).WaitFor(infra.Redis)
    .WithEnvironment("AigneHub__Bootstrap__OwnerKey", ownerKey)
    .WithEnvironment("AigneHub__Secrets__MasterKey", masterKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// The Api owns migrations and reports Degraded until they are applied, so waiting for it waits for the schema.
var worker = builder.AddProject<Projects.AigneHub_Worker>("worker")
    .WithReference(infra.Database)
    .WithReference(infra.Redis)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

// Redis holds the Admin's Data Protection keys, so every replica reads the sign-in cookies of the others.
var admin = builder.AddProject<Projects.AigneHub_Admin>("admin")
    .WithReference(infra.Redis)
    .WithReference(api).WaitFor(api)
    .WithReference(worker)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// The Admin forwards each browser's address; the Api believes X-Forwarded-For only from trusted proxies. Run mode
// starts both as local processes, so the Admin calls from loopback; a deployment lists its own networks
// (AigneHub__ForwardedHeaders__KnownNetworks__0=…) — see docs/designs/auth.md.
if (builder.ExecutionContext.IsRunMode)
{
    api.WithEnvironment("AigneHub__ForwardedHeaders__KnownNetworks__0", "127.0.0.0/8")
        .WithEnvironment("AigneHub__ForwardedHeaders__KnownNetworks__1", "::1/128");
}

// People sign in at the Admin: wallet challenges and connect links name its address, and SSO (when configured) spans
// both. Deployed, that address is https (the ingress terminates TLS); locally it is the plain http endpoint.
if (builder.ExecutionContext.IsPublishMode)
{
    admin.WithHttpsEndpoint(name: "https").WithEndpoint("https", endpoint => endpoint.IsExternal = true);
}
api.WithEnvironment("AigneHub__Auth__PublicBaseUrl", admin.GetEndpoint(builder.ExecutionContext.IsPublishMode ? "https" : "http"));
builder.WithSingleSignOn(api, admin);

// The call log links each call to its trace in the Aspire dashboard (run mode: the dashboard is the AppHost's URL).
if (builder.ExecutionContext.IsRunMode && builder.Configuration["ASPNETCORE_URLS"]?.Split(';')[0] is { Length: > 0 } dashboardUrl)
{
    admin.WithEnvironment("AigneHub__DashboardUrl", dashboardUrl);
}

builder.Build().Run();
