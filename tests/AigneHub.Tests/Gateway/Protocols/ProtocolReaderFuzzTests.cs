using System.Text;
using AigneHub.Api.Gateway;
using AigneHub.Api.Gateway.Protocols;
using AigneHub.Api.Gateway.Protocols.Aigne;
using AigneHub.Api.Gateway.Protocols.Anthropic;
using AigneHub.Api.Gateway.Protocols.OpenAi;
using AigneHub.Api.Gateway.Protocols.Responses;
using AigneHub.Api.Providers;

namespace AigneHub.Tests.Gateway.Protocols;

/// <summary>
/// Every caller protocol's reader, driven directly (through the body parser every route uses) with thousands of
/// seeded mutations of valid bodies: each body is either read (it is still valid) or refused with a 400
/// <see cref="GatewayException"/> — naming the field once the body is a JSON object — never any other exception
/// (which the routes would answer with a 500).
/// </summary>
public sealed class ProtocolReaderFuzzTests
{
    private const int MutationsPerReader = 1500;

    private static readonly string[] ReaderNames = ["openai.chat", "openai.embeddings", "openai.images", "openai.videos", "openai.responses", "aigne.chat", "aigne.image", "aigne.video", "aigne.embeddings", "anthropic.messages", "anthropic.count_tokens"];

    public static TheoryData<string> Readers => new(ReaderNames);

    [Theory]
    [MemberData(nameof(Readers))]
    public void Mutated_bodies_are_read_or_refused_with_a_400_naming_the_field(string reader)
    {
        var (seeds, read) = Reader(reader);
        var mutator = new BodyMutator(StableSeed(reader));
        var (accepted, refused) = (0, 0);
        var failures = new List<string>();
        for (var i = 0; i < MutationsPerReader; i++)
        {
            var text = mutator.Mutate(seeds[i % seeds.Length]);
            JsonFields body;
            try
            {
                body = CallerBody.Parse(Encoding.UTF8.GetBytes(text));
            }
            catch (GatewayException ex) when (ex.Status == 400)
            {
                refused++; // the body reader's 400: not JSON, not an object, a duplicate member, a lone surrogate
                continue;
            }
            try
            {
                read(body);
                accepted++;
            }
            catch (GatewayException ex) when (ex.Status == 400 && !string.IsNullOrEmpty(ex.Param))
            {
                refused++;
            }
            catch (Exception ex)
            {
                failures.Add($"{ex.GetType().Name}: {ex.Message}\n    {Shorten(text)}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {MutationsPerReader} mutated bodies broke the {reader} reader:\n" + string.Join("\n", failures.Take(10)));
        // The mutations must exercise both outcomes, or the test says nothing.
        Assert.True(accepted > 0 && refused > 0, $"accepted {accepted}, refused {refused}");
    }

    [Fact]
    public void The_seed_bodies_are_valid()
    {
        foreach (var reader in ReaderNames)
        {
            var (seeds, read) = Reader(reader);
            foreach (var seed in seeds)
            {
                read(CallerBody.Parse(Encoding.UTF8.GetBytes(seed)));
            }
        }
    }

    /// <summary>Each reader as its route uses it, including what the runner derives from the request.</summary>
    private static (string[] Seeds, Action<JsonFields> Read) Reader(string name) => name switch
    {
        "openai.chat" => (ProtocolBodies.OpenAiChat, body =>
        {
            var chat = OpenAiChatRequest.Read(body);
            OpenAiChatRequest.WantsUsage(body, chat.Streaming);
            TokenEstimator.Prompt(chat.Request);
        }),
        "openai.embeddings" => (ProtocolBodies.OpenAiEmbeddings, body => OpenAiEmbeddings.Read(body)),
        "openai.responses" => (ProtocolBodies.Responses, body => TokenEstimator.Prompt(ResponsesRequest.Read(body).Chat.Request)),
        "openai.images" => (ProtocolBodies.OpenAiImages, body => OpenAiImages.Read(body)),
        "aigne.chat" => (ProtocolBodies.AigneChat, body => TokenEstimator.Prompt(AigneProtocol.ReadChat(body).Request)),
        "aigne.image" => (ProtocolBodies.AigneImage, body => AigneProtocol.ReadImage(body)),
        "aigne.video" => (ProtocolBodies.AigneVideo, body => AigneProtocol.ReadVideo(body)),
        "openai.videos" => (ProtocolBodies.OpenAiVideos, body => OpenAiVideos.Read(body)),
        "aigne.embeddings" => (ProtocolBodies.AigneEmbeddings, body => AigneProtocol.ReadEmbeddings(body)),
        "anthropic.messages" => (ProtocolBodies.AnthropicMessages, body => TokenEstimator.Prompt(AnthropicMessagesRequest.Read(body, AnthropicHeaders).Request)),
        "anthropic.count_tokens" => (ProtocolBodies.AnthropicMessages, body => TokenEstimator.Prompt(AnthropicMessagesRequest.Read(body, AnthropicHeaders, countTokens: true).Request)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static readonly Dictionary<string, string> AnthropicHeaders = new() { ["anthropic-beta"] = "claude-code-20250219,interleaved-thinking-2025-05-14" };

    /// <summary>A seed that is the same on every run (string hash codes are randomised per process).</summary>
    private static int StableSeed(string name) => name.Aggregate(17, (h, c) => unchecked((h * 31) + c));

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + $"… ({text.Length} chars)";
}
