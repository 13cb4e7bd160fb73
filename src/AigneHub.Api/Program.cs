using AigneHub.Api.Billing;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Usage;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();
builder.AddIdentityServices();
builder.AddBilling();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapBillingApi();
app.MapUsageApi();

app.Run();
