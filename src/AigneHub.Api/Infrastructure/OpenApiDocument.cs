using AigneHub.Api.Identity;

namespace AigneHub.Api.Infrastructure;

public static class OpenApiDocument
{
    /// <summary>
    /// <c>/openapi/v1.json</c>: anonymous in Development (tools and the dashboard read it freely); elsewhere for
    /// signed-in members only, so a deployment does not hand strangers a map of every route.
    /// </summary>
    public static IEndpointConventionBuilder MapOpenApiDocument(this WebApplication app)
    {
        var document = app.MapOpenApi();
        return app.Environment.IsDevelopment()
            ? document.AllowAnonymous()
            : document.RequireAuthorization(AuthorizationPolicies.Member);
    }
}
