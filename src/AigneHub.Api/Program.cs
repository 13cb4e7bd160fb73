using AigneHub.Api.Abuse;
using AigneHub.Api.Audit;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway;
using AigneHub.Api.Gateway.Protocols.Aigne;
using AigneHub.Api.Gateway.Protocols.Anthropic;
using AigneHub.Api.Gateway.Protocols.OpenAi;
using AigneHub.Api.Gateway.Protocols.Responses;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Api.Usage;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddReplicatedCache();
builder.AddBootstrap();
builder.AddClientLimits();
builder.AddAuditLog();
builder.AddIdentityServices();
builder.AddProviders();
builder.AddProviderManagement();
builder.AddModelRouting();
builder.AddBilling();
builder.AddGateway();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseUnhandledErrors();
app.UseTrustedProxies();
app.UseTransportSecurity();
app.UseTraceIdHeader();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints(detailsPolicy: AuthorizationPolicies.Admin);
app.MapOpenApiDocument();

// Identity and management: every change (and failed sign-in) in the audit log.
var management = app.MapGroup("").WithAuditLog();
management.MapIdentityApi();
management.MapProviderAdminApi();
management.MapModelAliasAdminApi();
management.MapModelStatusApi();
management.MapBillingApi();
management.MapUsageApi();
management.MapUsageBreakdownApi();
management.MapAuditApi();

app.MapHubDiscovery().AllowAnonymous();
app.MapModelDirectory().AllowAnonymous();
app.MapOpenAiApi("/api/v2", ApiSurface.V2).RequireAuthorization(AuthorizationPolicies.Inference);
app.MapResponsesApi().RequireAuthorization(AuthorizationPolicies.Inference);
app.MapAigneApi().RequireAuthorization(AuthorizationPolicies.Inference);
app.MapAnthropicApi().RequireAuthorization(AuthorizationPolicies.Inference);
app.MapOpenAiApi("/api/v1", ApiSurface.V1).RequireAuthorization(AuthorizationPolicies.App);

app.Run();
