using AigneHub.Api.Abuse;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Management;
using AigneHub.Api.Routing;
using AigneHub.Api.Usage;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();
builder.AddClientLimits();
builder.AddIdentityServices();
builder.AddProviderManagement();
builder.AddModelRouting();
builder.AddBilling();
builder.AddGateway();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseTrustedProxies();
app.UseTraceIdHeader();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi().AllowAnonymous();

// Identity and management: small bodies only.
var management = app.MapGroup("").WithBoundedBodies();
management.MapIdentityApi();
management.MapProviderAdminApi();
management.MapModelStatusApi();
management.MapBillingApi();
management.MapUsageApi();

app.MapHubDiscovery().AllowAnonymous();
app.MapModelDirectory().AllowAnonymous();
app.MapOpenAiApi("/api/v2", ApiSurface.V2).RequireAuthorization(AuthorizationPolicies.Member);
app.MapAigneApi().RequireAuthorization(AuthorizationPolicies.Member);
app.MapOpenAiApi("/api/v1", ApiSurface.V1).RequireAuthorization(AuthorizationPolicies.App);

app.Run();
