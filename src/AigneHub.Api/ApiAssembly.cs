namespace AigneHub.Api;

/// <summary>
/// Names the Api's assembly for <c>WebApplicationFactory&lt;T&gt;</c> (the test project also references the AppHost,
/// whose top-level <c>Program</c> would clash with ours).
/// </summary>
public sealed class ApiAssembly;
