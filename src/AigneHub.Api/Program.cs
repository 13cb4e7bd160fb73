using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();
builder.AddIdentityServices();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapIdentityApi();

app.Run();
