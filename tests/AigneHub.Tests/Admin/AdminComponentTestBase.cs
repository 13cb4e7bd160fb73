using System.Collections.Concurrent;
using System.Net;
using System.Text;
using AigneHub.Admin;
using AigneHub.Admin.Api;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace AigneHub.Tests.Admin;

/// <summary>
/// The Api as the typed clients see it, scripted per test: each request is answered by the first route whose
/// method and path match; an unmatched request is a 404 in the Api's error shape (so a page that calls the wrong
/// route shows an error, and the test sees it).
/// </summary>
public sealed class FakeApiHandler : HttpMessageHandler
{
    private readonly List<(HttpMethod Method, string Path, Func<HttpRequestMessage, Task<HttpResponseMessage>> Answer)> _routes = [];

    public ConcurrentQueue<(HttpMethod Method, string PathAndQuery, string? Body)> Requests { get; } = new();

    /// <summary>Answers what no route of this handler matches (another service's handler falling back to the Api's).</summary>
    public FakeApiHandler? Fallback { get; init; }

    public FakeApiHandler On(HttpMethod method, string path, Func<HttpRequestMessage, Task<HttpResponseMessage>> answer)
    {
        _routes.Add((method, path, answer));
        return this;
    }

    public FakeApiHandler On(HttpMethod method, string path, HttpStatusCode status, string json) =>
        On(method, path, _ => Task.FromResult(Json(status, json)));

    public FakeApiHandler OnGet(string path, string json) => On(HttpMethod.Get, path, HttpStatusCode.OK, json);

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Enqueue((request.Method, request.RequestUri!.PathAndQuery, body));
        var path = request.RequestUri!.AbsolutePath;
        foreach (var (method, route, answer) in _routes)
        {
            if (method == request.Method && string.Equals(route, path, StringComparison.Ordinal))
            {
                return await answer(request);
            }
        }
        if (Fallback is not null)
        {
            using var invoker = new HttpMessageInvoker(Fallback, disposeHandler: false);
            return await invoker.SendAsync(request, cancellationToken);
        }
        return Json(HttpStatusCode.NotFound, $$$"""{"error":{"message":"No fake route for {{{request.Method}}} {{{path}}}","type":"not_found_error"}}""");
    }
}

/// <summary>A bUnit context with MudBlazor and every typed Api client wired to one <see cref="FakeApiHandler"/>.</summary>
public abstract class AdminComponentTestBase : IAsyncLifetime
{
    protected BunitContext Context { get; } = new();

    protected FakeApiHandler Api { get; } = new();

    /// <summary>The Worker's <c>/health</c>, scripted apart from the Api's; unscripted, it answers as the Api does.</summary>
    protected FakeApiHandler Worker { get; }

    /// <summary>Signed in as an owner unless a test changes the roles before rendering.</summary>
    protected BunitAuthorizationContext Auth { get; }

    /// <param name="services">Extra services a test class needs, added before the first service is resolved.</param>
    protected AdminComponentTestBase(Action<IServiceCollection>? services = null)
    {
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        Context.Services.AddMudServices();
        Context.Services.AddSingleton(TimeProvider.System);
        Context.Services.AddSingleton<IOptions<AdminOptions>>(Options.Create(new AdminOptions { DashboardUrl = "http://dashboard.test" }));
        HttpClient Client() => new(Api, disposeHandler: false) { BaseAddress = new Uri("http://api") };
        Context.Services.AddSingleton(new AigneHubApiClient(Client()));
        Worker = new FakeApiHandler { Fallback = Api };
        Context.Services.AddSingleton(new WorkerHealthClient(new HttpClient(Worker, disposeHandler: false) { BaseAddress = new Uri("http://worker") }));
        Context.Services.AddSingleton(new AuthApiClient(Client()));
        Context.Services.AddSingleton(new IdentityApiClient(Client()));
        Context.Services.AddSingleton(new ProvidersApiClient(Client()));
        Context.Services.AddSingleton(new BillingApiClient(Client()));
        Context.Services.AddSingleton(new UsageApiClient(Client()));
        Context.Services.AddSingleton(new GatewayApiClient(Client()));
        services?.Invoke(Context.Services);
        Auth = Context.AddAuthorization();
        Auth.SetAuthorized("owner@example.test");
        Auth.SetRoles("owner");
        Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected IRenderedComponent<T> Render<T>() where T : IComponent => Context.Render<T>();

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services are only IAsyncDisposable.
    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        Api.Dispose();
    }
}
