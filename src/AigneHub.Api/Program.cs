using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDataServices();
builder.AddBootstrap();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point, visible to <c>WebApplicationFactory</c> in tests.</summary>
public partial class Program;
