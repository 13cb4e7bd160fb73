using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using AigneHub.Api.Identity;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class WalletMessageHostTests
{
    [Fact]
    public async Task The_message_names_the_public_site_the_person_signs_in_to_when_one_is_configured()
    {
        // The Admin asks the Api over an internal address; the wallet must show the site the person actually sees.
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Auth:PublicBaseUrl"] = "https://hub.example.test:8443/");
        using var client = api.CreateClient(bearer: null);
        var did = DidKey.FromPublicKey(Ed25519Crypto.PublicKeyOf(RandomNumberGenerator.GetBytes(32)));

        var response = await client.PostAsJsonAsync("/api/auth/wallet/challenge", new { did });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = (await ReadJsonAsync(response))["message"]!.GetValue<string>();
        Assert.StartsWith("hub.example.test:8443 wants you to sign in to AigneHub with your DID:\n" + did + "\n\nNonce: ", message);
    }
}
