using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
