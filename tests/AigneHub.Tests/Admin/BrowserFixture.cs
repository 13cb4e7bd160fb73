using AigneHub.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AigneHub.Tests.Admin;

/// <summary>
/// One headless Chromium for the whole collection (Debian's <c>/usr/bin/chromium</c>; nothing is downloaded), a
/// fresh context per test, and screenshots saved to <c>artifacts/screenshots/&lt;test&gt;/&lt;page&gt;.png</c>.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotRoot => Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        // CI machines have 2 cores shared with Postgres, Redis and several Api hosts: give assertions and actions
        // room (they still return as soon as the condition holds).
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("AIGNEHUB_CHROMIUM") ?? ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>A new isolated context (cookies, storage) at laptop width unless told otherwise.</summary>
    public async Task<IBrowserContext> NewContextAsync(string baseUrl, int width = 1366, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(60_000);
        return context;
    }

    /// <summary>Saves a full-page PNG and returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string test, string name)
    {
        var path = Path.Combine(ScreenshotRoot, test, $"{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    /// <summary>Waits for the interactive circuit: clicks made while the page is only prerendered are lost.</summary>
    public static Task WaitForInteractiveAsync(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = 30_000 });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}
