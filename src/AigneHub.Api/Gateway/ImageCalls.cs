using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway;

public static class ImageCalls
{
    public static async Task<ImageResponse> GenerateAsync(IServiceProvider services, Attempt attempt, ImageRequest request, CancellationToken cancellationToken)
    {
        var adapter = services.GetKeyedService<IImageAdapter>(attempt.Target.Kind.Protocol)
            ?? throw new ProviderException(attempt.Target.Kind.Name, ProviderErrorClass.BadRequest, null,
                $"Provider '{attempt.Target.Kind.Name}' does not generate images.");
        var response = await adapter.GenerateAsync(attempt.Endpoint, request with { Model = attempt.Target.Model }, cancellationToken);
        attempt.MarkProviderFirstByte();
        return response;
    }
}
