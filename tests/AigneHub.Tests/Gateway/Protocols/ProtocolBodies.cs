namespace AigneHub.Tests.Gateway.Protocols;

/// <summary>Valid bodies of every caller protocol, the seeds the fuzz tests mutate. Models are ones the gateway fixture serves.</summary>
internal static class ProtocolBodies
{
    public static readonly string[] OpenAiChat =
    [
        """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""",
        """{"model":"openai/gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"temperature":0.2,"top_p":1,"max_tokens":50,"seed":7,"stop":["\n"],"user":"u1","n":1,"messages":[{"role":"system","content":"brief"},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://example.test/cat.png","detail":"low"}}]}]}""",
        """{"model":"openai/gpt-4o-mini","tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object"},"strict":true}},"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},{"role":"tool","tool_call_id":"call_1","name":"get_weather","content":"sunny"}]}""",
    ];

    public static readonly string[] OpenAiEmbeddings =
    [
        """{"model":"openai/text-embedding-3-small","input":"hello"}""",
        """{"model":"openai/text-embedding-3-small","input":["a","b"],"encoding_format":"base64","dimensions":8}""",
    ];

    public static readonly string[] OpenAiImages =
    [
        """{"model":"openai/dall-e-3","prompt":"a cat","n":2,"size":"1024x1024","quality":"hd","style":"vivid","response_format":"b64_json"}""",
    ];

    public static readonly string[] Responses =
    [
        """{"model":"openai/gpt-4o-mini","input":"hi"}""",
        """{"model":"openai/gpt-4o-mini","instructions":"brief","stream":true,"store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"k1","temperature":0.2,"top_p":1,"max_output_tokens":50,"parallel_tool_calls":false,"metadata":{"a":"b"},"reasoning":{"effort":"low","summary":"auto"},"text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true},"verbosity":"low"},"tools":[{"type":"function","name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true},{"type":"web_search"}],"tool_choice":{"type":"function","name":"get_weather"},"input":[{"type":"message","role":"developer","content":"rules"},{"type":"message","role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"https://example.test/cat.png","detail":"low"}]},{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"s"}],"encrypted_content":"gAAAA"},{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"},{"type":"function_call_output","call_id":"call_1","output":"sunny"},{"role":"assistant","content":[{"type":"output_text","text":"It is sunny."}]},{"role":"user","content":"thanks"}]}""",
        """{"model":"anthropic/claude-sonnet-4","tool_choice":"required","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"input":[{"role":"user","content":"hi"},{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"x"}]}]}""",
    ];

    public static readonly string[] AigneChat =
    [
        """{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"system","content":"brief"},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","url":"https://example.test/cat.png"},{"type":"file","mimeType":"image/png","data":"AAAA"}]}],"modelOptions":{"model":"openai/gpt-4o-mini","temperature":0.1,"topP":1,"frequencyPenalty":0,"presencePenalty":0,"maxTokens":40,"reasoningEffort":"low"},"responseFormat":{"type":"json_schema","jsonSchema":{"name":"out","schema":{"type":"object"},"strict":true}}},"options":{"streaming":true}}""",
        """{"input":{"messages":[{"role":"user","content":"weather?"},{"role":"agent","content":"","toolCalls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Oslo"}}}]},{"role":"tool","toolCallId":"call_1","content":{"sky":"sunny"}}],"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object"}}}],"toolChoice":"router","modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
    ];

    public static readonly string[] AigneImage =
    [
        """{"input":{"prompt":"a cat","n":1,"size":"1024x1024","quality":"standard","style":"natural","responseFormat":"url","modelOptions":{"model":"openai/dall-e-3"}}}""",
    ];

    public static readonly string[] AigneVideo =
    [
        """{"input":{"prompt":"a cat","model":"openai/sora-2","outputFileType":"url","modelOptions":{"model":"openai/sora-2","seconds":"8","size":"1280x720"}},"options":{"streaming":false}}""",
        """{"input":{"prompt":"waves","seconds":6,"size":"720x1280","modelOptions":{"model":"google/veo-3.1-generate-preview"}}}""",
    ];

    public static readonly string[] OpenAiVideos =
    [
        """{"model":"openai/sora-2","prompt":"a cat","seconds":"4","size":"1280x720"}""",
    ];

    public static readonly string[] AigneEmbeddings =
    [
        """{"input":{"input":["a","b"],"modelOptions":{"model":"openai/text-embedding-3-small"}}}""",
    ];

    public static readonly string[] AnthropicMessages =
    [
        """{"model":"anthropic/claude-sonnet-4","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}""",
        """{"model":"openai/gpt-4o-mini","max_tokens":50,"stream":true,"temperature":0.2,"top_p":1,"top_k":5,"stop_sequences":["\n\nHuman:"],"metadata":{"user_id":"u1"},"thinking":{"type":"enabled","budget_tokens":1024},"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.37.0d9; cc_entrypoint=cli; cch=fa690;"},{"type":"text","text":"brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},{"type":"image","source":{"type":"url","url":"https://example.test/cat.png"}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"a note"}}]}]}""",
        """{"model":"anthropic/claude-sonnet-4","max_tokens":50,"tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object","properties":{"city":{"type":"string"}}},"cache_control":{"type":"ephemeral"}},{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},"context_management":{"edits":[]},"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"sig"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}],"is_error":false},{"type":"text","text":"thanks"}]},{"role":"system","content":"stay brief"}]}""",
    ];
}
