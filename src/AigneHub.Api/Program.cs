using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers.Management;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();
builder.AddIdentityServices();
builder.AddProviderManagement();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapProviderAdminApi();
app.MapModelStatusApi();

app.Run();
