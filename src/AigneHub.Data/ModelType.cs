namespace AigneHub.Data;

/// <summary>What kind of model call: the reference's chat/embedding/image/video, and audio (speech, transcription,
/// translation).</summary>
public enum ModelType
{
    Chat,
    Embedding,
    Image,
    Video,
    Audio,
}
