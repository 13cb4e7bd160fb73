using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Tour;

/// <summary>
/// The tour (issue 14's "one call of each kind through the running stack with its call record and charge"): the Api
/// from its Release build with billing on, Postgres, Redis and the fake OpenAI provider on 127.0.0.1; the operator's
/// setup through the admin routes only (the provider, a model and a rate of every type, a member with credits and a
/// key); then one call of every kind with the member's key through the real routes. For each call its record is read
/// back from <c>GET /api/v2/model-calls</c> (found by the <c>x-aignehub-call-id</c> header) and its charge compared
/// with the one the tour works out by hand from the rate it set and the units the fake reported. Then the money check
/// (<see cref="MoneyState"/>). Writes <c>drills/results/tour.md</c>; exits 1 on any mismatch.
/// </summary>
internal static class TourRun
{
    // The rates the tour sets (credits per unit) and prices every call with.
    private const decimal EmbeddingInputRate = 0.0001m;
    private const decimal ImageInputRate = 0.00002m;
    private const decimal ImageOutputRate = 0.04m;     // per image
    private const decimal SpeechCharacterRate = 0.00015m;
    private const decimal HearingSecondRate = 0.006m;  // transcription and translation, per second heard
    private const decimal VideoSecondRate = 0.1m;      // a video rate's outputRate: per second made

    private const string SpeechInput = "Bonjour from the AigneHub tour — one call of every kind 🎙 spoken.";
    private const double TranscriptionSeconds = 3.0;
    private const double TranslationSeconds = 2.5;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0)
        {
            Console.Error.WriteLine($"The tour takes no arguments (got '{string.Join(' ', args)}').");
            return 2;
        }
        using var folder = RunFolder.Create("aignehub-tour-");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var stops = new List<Stop>();
        var failures = new List<string>();
        MoneyState? money = null;
        var planned = -1;
        try
        {
            var postgres = await PostgresServer.StartAsync(folder.TempRoot, maxConnections: 100);
            var redis = await RedisServer.StartAsync(folder.TempRoot);
            await using var fake = await FakeUpstream.StartAsync();
            var run = new RunContext
            {
                RepositoryRoot = folder.RepositoryRoot, TempRoot = folder.TempRoot, Postgres = postgres, Redis = redis,
                OutageSeconds = 0, BurstCalls = 0,
            };
            var database = await postgres.CreateDatabaseAsync("tour");
            await using var drill = new DrillContext(run, "tour", database, redis.ConnectionString(0), fake);
            // The hub polls a video job every 200 ms instead of 5 s, so the two video calls take a second, not ten.
            var api = await drill.StartApiAsync(settings: new Dictionary<string, string> { ["AigneHub__Gateway__Video__PollInterval"] = "00:00:00.200" });
            Console.WriteLine($"Api {api.BaseUrl} (Release, billing on), fake OpenAI {fake.BaseUrl}");

            await ConfigureAsync(api.BaseUrl, fake);
            var member = await Hub.AddMemberAsync(api.BaseUrl, credits: 1000);
            using var client = new HttpClient { BaseAddress = api.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", member.Key);

            var calls = new Calls(client, api.BaseUrl, member.Key, fake);
            planned = calls.All().Count;
            foreach (var (kind, call) in calls.All())
            {
                Stop stop;
                try
                {
                    stop = await call();
                    stop = stop with { Record = stop.CallId is { } id ? await RecordAsync(client, id) : null };
                }
                catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException or InvalidOperationException)
                {
                    stop = new Stop(kind, "—", null, null, [], $"the call stopped: {ex.GetType().Name}: {ex.Message}");
                }
                stops.Add(stop);
                Console.WriteLine(Row(stops.Count, stop));
            }
            money = await MoneyState.SettledAsync(database, TimeSpan.FromSeconds(60));
        }
        catch (Exception ex)
        {
            failures.Add($"the tour stopped: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            Processes.StopAll();
        }

        failures.AddRange(stops.Where(s => !s.Passed).Select(s => $"{s.Kind} ({s.Route}): {string.Join("; ", s.Problems)}"));
        if (money is not null)
        {
            var expected = stops.Sum(s => s.Expected ?? 0);
            Check(failures, money.Records == stops.Count, $"{money.Records} call records for {stops.Count} calls");
            Check(failures, money.DuplicateRequestIds == 0, $"{money.DuplicateRequestIds} request ids with more than one record");
            Check(failures, money.Processing == 0, $"{money.Processing} calls left processing");
            Check(failures, money.Reserved == 0, $"{money.Reserved} credits left reserved");
            Check(failures, money.LedgerDifference == 0, $"ledger debits − charges = {money.LedgerDifference}");
            Check(failures, money.Charges == expected, $"Σ charges {Credits(money.Charges)} ≠ Σ expected {Credits(expected)}");
        }
        var markdown = Markdown(stops, money, failures, started, clock.Elapsed);
        Console.WriteLine();
        Console.WriteLine(markdown);
        var resultsFile = Path.Combine(folder.RepositoryRoot, "drills", "results", "tour.md");
        Directory.CreateDirectory(Path.GetDirectoryName(resultsFile)!);
        await File.WriteAllTextAsync(resultsFile, markdown);
        Console.WriteLine($"Wrote {Path.GetRelativePath(folder.RepositoryRoot, resultsFile)}: {stops.Count(s => s.Passed)} of {stops.Count} calls as expected{(failures.Count == 0 ? ", money exact" : $", {failures.Count} problems")}.");
        return failures.Count == 0 && stops.Count == planned ? 0 : 1;
    }

    /// <summary>As an operator would, with the owner key: the provider at the fake and a credential (with the chat
    /// model and its rate, <see cref="Hub.AddProviderAsync"/>), then a model and a rate of every other type.</summary>
    private static async Task ConfigureAsync(Uri api, FakeUpstream fake)
    {
        await Hub.AddProviderAsync(api, fake);
        await Hub.AddModelAsync(api, "text-embedding-3-small", "embedding", new JsonObject { ["inputRate"] = EmbeddingInputRate, ["outputRate"] = 0 });
        await Hub.AddModelAsync(api, "gpt-image-1", "image", new JsonObject { ["inputRate"] = ImageInputRate, ["outputRate"] = ImageOutputRate });
        await Hub.AddModelAsync(api, "gpt-4o-mini-tts", "audio", new JsonObject { ["characterRate"] = SpeechCharacterRate });
        await Hub.AddModelAsync(api, "whisper-1", "audio", new JsonObject { ["secondRate"] = HearingSecondRate });
        await Hub.AddModelAsync(api, "sora-2", "video", new JsonObject { ["inputRate"] = 0, ["outputRate"] = VideoSecondRate });
    }

    /// <summary>One stop of the tour: the call as sent and answered, the fake's reports for it, the tour's expected
    /// charge and the units it prices, and the call record read back.</summary>
    private sealed record Stop(string Kind, string Route, int? Status, Guid? CallId, IReadOnlyList<FakeReport> Reports, string? AnswerProblem)
    {
        public string Rate { get; init; } = "";

        public decimal? Expected { get; init; }

        /// <summary>The record's fields (camelCase, as the API writes them) that must equal these values.</summary>
        public IReadOnlyDictionary<string, decimal> Units { get; init; } = new Dictionary<string, decimal>();

        public JsonObject? Record { get; init; }

        public decimal? Charged => Record?["credits"] is JsonNode c ? decimal.Parse(c.ToString(), CultureInfo.InvariantCulture) : null;

        public IReadOnlyList<string> Problems
        {
            get
            {
                List<string> problems = [];
                if (AnswerProblem is not null)
                {
                    problems.Add(AnswerProblem);
                }
                if (Record is null)
                {
                    problems.Add(CallId is null ? "no x-aignehub-call-id header" : $"no call record {CallId}");
                    return problems;
                }
                if ((string?)Record["status"] != "success")
                {
                    problems.Add($"record status {(string?)Record["status"]} ({(string?)Record["errorReason"]})");
                }
                foreach (var (name, value) in Units)
                {
                    var recorded = RecordNumber(Record, name);
                    if (recorded != value)
                    {
                        problems.Add($"record {name} {recorded?.ToString(CultureInfo.InvariantCulture) ?? "absent"}, the fake reported {value.ToString(CultureInfo.InvariantCulture)}");
                    }
                }
                if (Expected is null || Charged != Expected)
                {
                    problems.Add($"charged {Credits(Charged)}, expected {Credits(Expected)}");
                }
                return problems;
            }
        }

        public bool Passed => Problems.Count == 0;
    }

    /// <summary>The calls, in order, each with the member's key through the Api's real routes.</summary>
    private sealed class Calls(HttpClient client, Uri api, string key, FakeUpstream fake)
    {
        private static readonly decimal ChatInputRate = Hub.InputRate;
        private static readonly decimal ChatOutputRate = Hub.OutputRate;

        public IReadOnlyList<(string Kind, Func<Task<Stop>> Run)> All() =>
        [
            ("chat", () => ChatAsync(stream: false)),
            ("chat (stream)", () => ChatAsync(stream: true)),
            ("chat (AIGNE)", AigneChatAsync),
            ("embeddings", EmbeddingsAsync),
            ("image", ImageAsync),
            ("image edit", ImageEditAsync),
            ("speech", SpeechAsync),
            ("transcription", () => HearingAsync("transcription", "/api/v2/audio/transcriptions", TranscriptionSeconds, "json")),
            ("translation", () => HearingAsync("translation", "/api/v2/audio/translations", TranslationSeconds, "verbose_json")),
            ("video (AIGNE)", AigneVideoAsync),
            ("video (OpenAI)", OpenAiVideoAsync),
        ];

        private static string ChatRate => $"{Number(ChatInputRate)}/in tok, {Number(ChatOutputRate)}/out tok";

        // Chat: the fake's usage is its constants (10 prompt, 5 completion tokens), a stream's as many chunks as it sends.
        private async Task<Stop> ChatAsync(bool stream)
        {
            using var traffic = new Traffic(TimeSpan.FromSeconds(60));
            var outcome = await traffic.CallAsync(api, key, stream, holdMs: 0);
            var completion = stream ? fake.StreamTokens : FakeUpstream.CompletionTokens;
            return new Stop(stream ? "chat (stream)" : "chat", "POST /api/v2/chat/completions", outcome.Status, outcome.CallId, [],
                outcome.Completed ? null : $"the answer was not whole: {outcome.Transport ?? outcome.Snippet}")
            {
                Rate = ChatRate,
                Expected = FakeUpstream.PromptTokens * ChatInputRate + completion * ChatOutputRate,
                Units = new Dictionary<string, decimal> { ["promptTokens"] = FakeUpstream.PromptTokens, ["completionTokens"] = completion },
            };
        }

        private async Task<Stop> AigneChatAsync()
        {
            var answer = await SendJsonAsync("/api/v2/chat", new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello from the tour" }),
                    ["modelOptions"] = new JsonObject { ["model"] = Hub.Model },
                },
            }, []);
            var json = answer.Json();
            return new Stop("chat (AIGNE)", "POST /api/v2/chat", answer.Status, answer.CallId, [],
                json?["text"] is null ? $"no text in the answer: {answer.Snippet}" : null)
            {
                Rate = ChatRate,
                Expected = FakeUpstream.PromptTokens * ChatInputRate + FakeUpstream.CompletionTokens * ChatOutputRate,
                Units = new Dictionary<string, decimal> { ["promptTokens"] = FakeUpstream.PromptTokens, ["completionTokens"] = FakeUpstream.CompletionTokens },
            };
        }

        private async Task<Stop> EmbeddingsAsync()
        {
            var answer = await SendJsonAsync("/api/v2/embeddings", new JsonObject
            {
                ["model"] = "openai/text-embedding-3-small",
                ["input"] = new JsonArray("the tour embeds this sentence", "and then this one"),
            }, ["embeddings"]);
            var report = answer.Reports.SingleOrDefault();
            return new Stop("embeddings", "POST /api/v2/embeddings", answer.Status, answer.CallId, answer.Reports,
                answer.Problem ?? (answer.Json()?["data"] is JsonArray { Count: 2 } ? null : $"not two vectors: {answer.Snippet}"))
            {
                Rate = $"{Number(EmbeddingInputRate)}/in tok",
                Expected = report is null ? null : report.PromptTokens * EmbeddingInputRate,
                Units = report is null ? [] : new Dictionary<string, decimal> { ["promptTokens"] = report.PromptTokens },
            };
        }

        private async Task<Stop> ImageAsync()
        {
            var answer = await SendJsonAsync("/api/v2/images/generations", new JsonObject
            {
                ["model"] = "openai/gpt-image-1", ["prompt"] = "a small gradient square for the tour", ["n"] = 1, ["size"] = "1024x1024", ["quality"] = "low",
            }, ["images/generations"]);
            return ImageStop("image", "POST /api/v2/images/generations", answer);
        }

        private async Task<Stop> ImageEditAsync()
        {
            var form = new MultipartFormDataContent
            {
                { new StringContent("openai/gpt-image-1"), "model" },
                { new StringContent("make the square warmer"), "prompt" },
                { new StringContent("1"), "n" },
                { new StringContent("1024x1024"), "size" },
                { new StringContent("low"), "quality" },
            };
            var png = new ByteArrayContent(MediaFiles.Png(32, 32));
            png.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(png, "image", "tour.png");
            var answer = await SendAsync(HttpMethod.Post, "/api/v2/images/edits", form, ["images/edits"]);
            return ImageStop("image edit", "POST /api/v2/images/edits", answer);
        }

        /// <summary>An image call is charged per image (output rate) plus its prompt tokens (input rate); the output
        /// tokens gpt-image-1 reports are recorded, not priced (billing.md, Credit formula).</summary>
        private static Stop ImageStop(string kind, string route, Answer answer)
        {
            var report = answer.Reports.SingleOrDefault();
            var images = answer.Json()?["data"] as JsonArray;
            var b64 = (string?)images?.FirstOrDefault()?["b64_json"];
            return new Stop(kind, route, answer.Status, answer.CallId, answer.Reports,
                answer.Problem ?? (images?.Count == 1 && b64 is not null && MediaFiles.PngSize(Convert.FromBase64String(b64)) is not null ? null : $"not one PNG: {answer.Snippet}"))
            {
                Rate = $"{Number(ImageOutputRate)}/image, {Number(ImageInputRate)}/in tok",
                Expected = report is null ? null : report.Images * ImageOutputRate + report.PromptTokens * ImageInputRate,
                Units = report is null ? [] : new Dictionary<string, decimal>
                {
                    ["images"] = report.Images, ["promptTokens"] = report.PromptTokens, ["completionTokens"] = report.CompletionTokens,
                },
            };
        }

        /// <summary>Speech is charged per character of its input, a character being a Unicode code point (the tour
        /// counts its own input's, the fake the one it received: both must agree).</summary>
        private async Task<Stop> SpeechAsync()
        {
            var answer = await SendJsonAsync("/api/v2/audio/speech", new JsonObject
            {
                ["model"] = "openai/gpt-4o-mini-tts", ["input"] = SpeechInput, ["voice"] = "alloy", ["response_format"] = "wav",
            }, ["audio/speech"]);
            var characters = SpeechInput.EnumerateRunes().Count();
            var report = answer.Reports.SingleOrDefault();
            var problem = answer.Problem
                ?? (MediaFiles.WavSeconds(answer.Body) is null ? $"not a WAV ({answer.ContentType}, {answer.Body.Length} bytes)" : null)
                ?? (report?.Characters != characters ? $"the fake heard {report?.Characters} characters, the tour sent {characters}" : null);
            return new Stop("speech", "POST /api/v2/audio/speech", answer.Status, answer.CallId, answer.Reports, problem)
            {
                Rate = $"{Number(SpeechCharacterRate)}/character",
                Expected = characters * SpeechCharacterRate,
                Units = new Dictionary<string, decimal> { ["characters"] = characters },
            };
        }

        /// <summary>Transcription and translation are charged per second heard: the seconds the fake's answer states
        /// (whisper-1's <c>usage.seconds</c> in json, <c>duration</c> in verbose_json) of a WAV the tour made.</summary>
        private async Task<Stop> HearingAsync(string kind, string path, double seconds, string format)
        {
            var wav = new ByteArrayContent(MediaFiles.Wav(seconds));
            wav.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
            var form = new MultipartFormDataContent
            {
                { new StringContent("openai/whisper-1"), "model" },
                { new StringContent(format), "response_format" },
                { wav, "file", $"tour-{seconds.ToString(CultureInfo.InvariantCulture)}s.wav" },
            };
            var operation = path.EndsWith("translations", StringComparison.Ordinal) ? "audio/translations" : "audio/transcriptions";
            var answer = await SendAsync(HttpMethod.Post, path, form, [operation]);
            var report = answer.Reports.SingleOrDefault();
            return new Stop(kind, $"POST {path} ({format})", answer.Status, answer.CallId, answer.Reports,
                answer.Problem ?? (answer.Json()?["text"] is null ? $"no text in the answer: {answer.Snippet}" : null))
            {
                Rate = $"{Number(HearingSecondRate)}/second heard",
                Expected = report?.Seconds * HearingSecondRate,
                Units = report?.Seconds is decimal s ? new Dictionary<string, decimal> { ["audioSeconds"] = s } : [],
            };
        }

        /// <summary>The AIGNE SDK's video call: answered once the job is done, the video inline.</summary>
        private async Task<Stop> AigneVideoAsync()
        {
            var answer = await SendJsonAsync("/api/v2/video", new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["prompt"] = "a paper boat on a pond",
                    ["modelOptions"] = new JsonObject { ["model"] = "openai/sora-2", ["seconds"] = "4", ["size"] = "1280x720" },
                    ["outputFileType"] = "file",
                },
            }, ["videos"]);
            var json = answer.Json();
            var data = (string?)json?["videos"]?[0]?["data"];
            var problem = answer.Problem ?? (data is not null && IsMp4(Convert.FromBase64String(data)) ? null : $"no MP4 inline: {answer.Snippet}");
            return VideoStop("video (AIGNE)", "POST /api/v2/video", answer.Status, answer.CallId, answer.Reports, problem);
        }

        /// <summary>OpenAI's videos API: the job answered at once, polled through the hub until completed, its content fetched.</summary>
        private async Task<Stop> OpenAiVideoAsync()
        {
            const string route = "POST /api/v2/videos, GET …/{id}, GET …/{id}/content";
            var created = await SendJsonAsync("/api/v2/videos", new JsonObject
            {
                ["model"] = "openai/sora-2", ["prompt"] = "a paper boat on a pond, in the rain", ["seconds"] = "8", ["size"] = "1280x720",
            }, []);
            var id = (string?)created.Json()?["id"];
            if (created.Problem is not null || id is null)
            {
                return VideoStop("video (OpenAI)", route, created.Status, created.CallId, [], created.Problem ?? $"no job id: {created.Snippet}");
            }
            string? status = null;
            await Wait.UntilAsync(TimeSpan.FromSeconds(30), async () =>
            {
                var job = JsonNode.Parse(await client.GetStringAsync($"/api/v2/videos/{Uri.EscapeDataString(id)}"));
                status = (string?)job?["status"];
                return status is "completed" or "failed";
            }, $"video {id} to complete");
            var content = await SendAsync(HttpMethod.Get, $"/api/v2/videos/{Uri.EscapeDataString(id)}/content", null, []);
            var reports = await ReportsSinceAsync(fake, created.ReportsBefore, ["videos"]);
            var problem = status != "completed" ? $"the job ended {status}"
                : content.Problem ?? (IsMp4(content.Body) ? null : $"the content is no MP4 ({content.ContentType}, {content.Body.Length} bytes)");
            return VideoStop("video (OpenAI)", route, created.Status, created.CallId, reports, problem);
        }

        /// <summary>Video is charged per second the job made (the fake's <c>seconds</c>), at the video rate's output rate.</summary>
        private static Stop VideoStop(string kind, string route, int? status, Guid? callId, IReadOnlyList<FakeReport> reports, string? problem)
        {
            var report = reports.SingleOrDefault();
            return new Stop(kind, route, status, callId, reports, problem ?? (reports.Count == 1 ? null : $"{reports.Count} finished jobs reported"))
            {
                Rate = $"{Number(VideoSecondRate)}/second made",
                Expected = report?.Seconds * VideoSecondRate,
                Units = report?.Seconds is decimal s ? new Dictionary<string, decimal> { ["videoSeconds"] = s } : [],
            };
        }

        private static bool IsMp4(byte[] bytes) => bytes.Length >= 12 && bytes.AsSpan(4, 4).SequenceEqual("ftyp"u8);

        private Task<Answer> SendJsonAsync(string path, JsonObject body, string[] operations) =>
            SendAsync(HttpMethod.Post, path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), operations);

        /// <summary>Sends one request with a fresh <c>x-request-id</c>; the fake's reports of <paramref name="operations"/>
        /// made meanwhile come with the answer (the calls go one at a time).</summary>
        private async Task<Answer> SendAsync(HttpMethod method, string path, HttpContent? content, string[] operations)
        {
            var before = fake.Reports.Count;
            using var request = new HttpRequestMessage(method, path) { Content = content };
            request.Headers.Add("x-request-id", Guid.NewGuid().ToString("N"));
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            var callId = response.Headers.TryGetValues("x-aignehub-call-id", out var ids) && Guid.TryParse(ids.First(), out var g) ? g : (Guid?)null;
            var reports = operations.Length == 0 ? [] : await ReportsSinceAsync(fake, before, operations);
            return new Answer((int)response.StatusCode, callId, response.Content.Headers.ContentType?.ToString() ?? "", body, reports, before);
        }
    }

    private sealed record Answer(int Status, Guid? CallId, string ContentType, byte[] Body, IReadOnlyList<FakeReport> Reports, int ReportsBefore)
    {
        public string Snippet => Encoding.UTF8.GetString(Body.AsSpan(0, Math.Min(300, Body.Length)));

        public string? Problem => Status == 200 ? null : $"answered {Status}: {Snippet}";

        public JsonNode? Json()
        {
            try
            {
                return JsonNode.Parse(Body);
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>The fake's reports of <paramref name="operations"/> after the first <paramref name="before"/>; waits
    /// briefly for one to appear (a video job completes in the hub's poll after the create was answered).</summary>
    private static async Task<IReadOnlyList<FakeReport>> ReportsSinceAsync(FakeUpstream fake, int before, string[] operations)
    {
        List<FakeReport> Found() => [.. fake.Reports.Skip(before).Where(r => operations.Contains(r.Operation))];
        try
        {
            await Wait.UntilAsync(TimeSpan.FromSeconds(10), () => Task.FromResult(Found().Count > 0), $"the fake to report {string.Join(", ", operations)}");
        }
        catch (TimeoutException)
        {
            // none: the stop says so
        }
        return Found();
    }

    /// <summary>The call's record as the member reads it, once it is settled (no longer processing).</summary>
    private static async Task<JsonObject?> RecordAsync(HttpClient client, Guid callId)
    {
        JsonObject? record = null;
        try
        {
            await Wait.UntilAsync(TimeSpan.FromSeconds(30), async () =>
            {
                var page = JsonNode.Parse(await client.GetStringAsync("/api/v2/model-calls?pageSize=200"));
                record = (page?["items"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["id"] == callId.ToString());
                return record is not null && (string?)record["status"] != "processing";
            }, $"call {callId} to be settled");
        }
        catch (TimeoutException)
        {
            // the stop reports what it found (nothing, or a record still processing)
        }
        return record;
    }

    private static decimal? RecordNumber(JsonObject record, string field) =>
        record[field] is JsonNode node && decimal.TryParse(node.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>What the record says of the units its charge prices.</summary>
    private static string RecordedUnits(Stop stop)
    {
        if (stop.Record is not { } r)
        {
            return "—";
        }
        string N(string field) => RecordNumber(r, field)?.ToString("0.###", CultureInfo.InvariantCulture) ?? "—";
        return (string?)r["type"] switch
        {
            "image" => $"{N("images")} image, {N("promptTokens")} in tok ({N("completionTokens")} out tok)",
            "video" => $"{N("videoSeconds")} video_seconds",
            "audio" when RecordNumber(r, "characters") is > 0 => $"{N("characters")} characters",
            "audio" => $"{N("audioSeconds")} audio_seconds",
            "embedding" => $"{N("promptTokens")} in tok",
            _ => $"{N("promptTokens")} in + {N("completionTokens")} out tok",
        };
    }

    private const string Header = "| # | kind | route | status | units charged (record) | rate | credits charged | expected | result |";

    private static string Row(int n, Stop s) =>
        $"| {n} | {s.Kind} | `{s.Route}` | {s.Status?.ToString(CultureInfo.InvariantCulture) ?? "—"} / {(string?)s.Record?["status"] ?? "no record"} | {RecordedUnits(s)} | {s.Rate} | {Credits(s.Charged)} | {Credits(s.Expected)} | {(s.Passed ? "pass" : "**FAIL**")} |";

    private static string Markdown(IReadOnlyList<Stop> stops, MoneyState? money, IReadOnlyList<string> failures, DateTimeOffset started, TimeSpan took)
    {
        var md = new StringBuilder();
        md.AppendLine("# Tour: one call of every kind");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"`./drills/tour.sh` — started {started:yyyy-MM-dd HH:mm} UTC, took {took.TotalSeconds:0} s (see `docs/reliability.md`, The tour).");
        md.AppendLine("The Api from its Release build with billing on, Postgres, Redis and the fake OpenAI provider (`harness/AigneHub.Harness/FakeUpstream`) on 127.0.0.1;");
        md.AppendLine("set up through the admin routes; every call with a member's access key. *Status* is the HTTP status / the call record's status; *expected* is");
        md.AppendLine("worked out by the tour from the rate it set and the units the fake reported (chat: 10 prompt and 5 completion tokens; images: per image");
        md.AppendLine("plus prompt tokens, output tokens recorded but not priced; speech: Unicode code points of the input; hearing: the seconds the answer states).");
        md.AppendLine();
        md.AppendLine(Header);
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        for (var i = 0; i < stops.Count; i++)
        {
            md.AppendLine(Row(i + 1, stops[i]));
        }
        md.AppendLine();
        if (money is not null)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Money (`MoneyState`, from the database): {money.Records} call records, ledger debits {Credits(money.Debits)} = Σ charges {Credits(money.Charges)} (difference {Credits(money.LedgerDifference)}), Σ expected {Credits(stops.Sum(s => s.Expected ?? 0))}, {money.Processing} processing, {Credits(money.Reserved)} reserved, {money.DuplicateRequestIds} request ids with two records.");
        }
        else
        {
            md.AppendLine("Money: not read (the tour stopped before).");
        }
        md.AppendLine();
        md.AppendLine(failures.Count == 0 ? "**Every charge as expected; the money adds up.**" : "**Problems:**");
        foreach (var failure in failures)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {failure}");
        }
        return md.ToString();
    }

    private static void Check(List<string> failures, bool holds, string what)
    {
        if (!holds)
        {
            failures.Add(what);
        }
    }

    private static string Number(decimal value) => value.ToString("0.##########", CultureInfo.InvariantCulture);

    private static string Credits(decimal? value) => value is { } v ? Math.Round(v, 10, MidpointRounding.AwayFromZero).ToString("0.##########", CultureInfo.InvariantCulture) : "—";
}
