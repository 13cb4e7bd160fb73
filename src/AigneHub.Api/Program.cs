using AigneHub.Api.Gateway;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers.Management;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();
builder.AddIdentityServices();
builder.AddProviderManagement();
builder.AddGateway();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapIdentityApi();
app.MapOpenApi().AllowAnonymous();
app.MapHubDiscovery().AllowAnonymous();
app.MapOpenAiApi("/api/v2", ApiSurface.V2).RequireAuthorization(AuthorizationPolicies.Member);
app.MapAigneApi().RequireAuthorization(AuthorizationPolicies.Member);
app.MapOpenAiApi("/api/v1", ApiSurface.V1).RequireAuthorization(AuthorizationPolicies.App);
app.MapProviderAdminApi();
app.MapModelStatusApi();

app.Run();
