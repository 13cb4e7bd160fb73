using AigneHub.Admin;
using AigneHub.Admin.Api;
using AigneHub.Admin.Audit;
using AigneHub.Admin.Auth;
using AigneHub.Admin.Components;
using MudBlazor.Services;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddTrustedProxies();
builder.AddAigneHubApiClient();
builder.AddAdminDataProtection();
builder.AddAdminAuthentication();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section)
    .PostConfigure<IConfiguration>((options, configuration) => options.ApiPublicUrl ??= configuration["services:api:http:0"]);

// MudBlazor: a maintained, MIT-licensed Material component library for Blazor whose MudDataGrid (server paging,
// filtering, sorting) and MudChart cover the rate table, call log and usage charts without hand-written widgets
// or JavaScript of our own, and whose layout (drawer, app bar, breakpoints) is responsive out of the box.
builder.Services.AddMudServices();
builder.Services.AddRazorComponents()
    .AddInteractiveServerComponents();

var app = builder.Build();

app.UseTrustedProxies();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
}
app.UseTransportSecurity();
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapDefaultEndpoints(detailsPolicy: AdminPolicies.Admin);
app.MapStaticAssets();
app.MapAdminAuthEndpoints();
app.MapAuditExport();
app.MapRazorComponents<App>()
    .AddInteractiveServerRenderMode();

app.Run();
