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
builder.AddIdentityServices();
builder.AddProviders();
builder.AddProviderManagement();
builder.AddModelRouting();
builder.AddBilling();
builder.AddGateway();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseTransportSecurity();
app.UseTraceIdHeader();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints(detailsPolicy: AuthorizationPolicies.Admin);
app.MapOpenApiDocument();
app.MapIdentityApi();
app.MapProviderAdminApi();
app.MapModelAliasAdminApi();
app.MapModelStatusApi();
app.MapBillingApi();
app.MapUsageApi();
app.MapHubDiscovery().AllowAnonymous();
app.MapModelDirectory().AllowAnonymous();
app.MapOpenAiApi("/api/v2", ApiSurface.V2).RequireAuthorization(AuthorizationPolicies.Member);
app.MapResponsesApi().RequireAuthorization(AuthorizationPolicies.Member);
app.MapAigneApi().RequireAuthorization(AuthorizationPolicies.Member);
app.MapAnthropicApi().RequireAuthorization(AuthorizationPolicies.Member);
app.MapOpenAiApi("/api/v1", ApiSurface.V1).RequireAuthorization(AuthorizationPolicies.App);

app.Run();
