using AigneHub.Admin.Api;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Bedrock;

namespace AigneHub.Tests.Providers;

/// <summary>The Admin's provider form offers what the Api accepts (it cannot reference the Api, so it keeps a copy).</summary>
public sealed class ProviderFormTests
{
    [Fact]
    public void The_admin_form_lists_every_configurable_provider_kind()
    {
        Assert.Equal(ProviderKinds.Configurable.Select(k => k.Name), ProvidersApiClient.ProviderNames);
    }

    [Fact]
    public void The_admin_forms_aws_credential_is_one_the_api_reads_back()
    {
        var value = ProvidersApiClient.AwsCredentialValue(" AKIDEXAMPLE ", "secret/key+1", "token-1");

        var credential = AwsCredential.TryParse(value, out var problem);

        Assert.Null(problem);
        Assert.Equal(new AwsCredential("AKIDEXAMPLE", "secret/key+1", "token-1"), credential);
        Assert.Null(ProvidersApiClient.AwsCredentialValue("", " ", null));
    }
}
