using AigneHub.Api.Abuse;
using AigneHub.Api.Audit;
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
builder.AddAuditLog();
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

// Identity and management: small bodies only, and every change (and failed sign-in) in the audit log.
var management = app.MapGroup("").WithBoundedBodies().WithAuditLog();
management.MapIdentityApi();
management.MapProviderAdminApi();
management.MapModelStatusApi();
management.MapBillingApi();
management.MapUsageApi();
management.MapAuditApi();

app.MapHubDiscovery().AllowAnonymous();
app.MapModelDirectory().AllowAnonymous();
app.MapOpenAiApi("/api/v2", ApiSurface.V2).RequireAuthorization(AuthorizationPolicies.Member);
app.MapAigneApi().RequireAuthorization(AuthorizationPolicies.Member);
app.MapOpenAiApi("/api/v1", ApiSurface.V1).RequireAuthorization(AuthorizationPolicies.App);

app.Run();
