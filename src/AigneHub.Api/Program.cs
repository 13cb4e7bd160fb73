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
builder.AddIdentityServices();
builder.AddProviderManagement();
builder.AddModelRouting();
builder.AddBilling();
builder.AddGateway();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseTraceIdHeader();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi().AllowAnonymous();
app.MapIdentityApi();
app.MapProviderAdminApi();
app.MapModelStatusApi();
app.MapBillingApi();
app.MapUsageApi();
app.MapHubDiscovery().AllowAnonymous();
app.MapModelDirectory().AllowAnonymous();
app.MapOpenAiApi("/api/v2", ApiSurface.V2).RequireAuthorization(AuthorizationPolicies.Inference);
app.MapAigneApi().RequireAuthorization(AuthorizationPolicies.Inference);
app.MapOpenAiApi("/api/v1", ApiSurface.V1).RequireAuthorization(AuthorizationPolicies.App);

app.Run();
