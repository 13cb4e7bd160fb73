using AigneHub.Worker;
using AigneHub.Worker.Jobs;

// The Worker runs the background jobs (meter delivery, stale-call cleanup, grant expiry, rollups, retention). It is
// a web host too, so that orchestrators can probe /health like any other service.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWorkerData();
builder.AddRedisClient("redis");
builder.AddBillingJobs();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
