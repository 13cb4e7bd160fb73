using System.Buffers.Binary;

namespace AigneHub.Api.Providers;

/// <summary>
/// An audio file's container, recognised from its bytes (never its name), and its duration as the container states
/// it: WAV (data length ÷ byte rate, capped by the bytes present), FLAC (STREAMINFO's samples ÷ rate), Ogg Opus and
/// Vorbis (the last page's granule position ÷ rate, less Opus's pre-skip), MP4/M4A (<c>mvhd</c>'s duration ÷
/// timescale), WebM/Matroska (Segment Info's Duration × TimecodeScale), MP3/MPEG audio (a Xing/Info or VBRI frame
/// count, else the first frame's bit rate over the file's length). <see cref="Seconds"/> is null when the container
/// does not say (a WebM recorded live, Ogg FLAC, a free-format MP3): <see cref="UpperBoundSeconds"/> bounds it then.
/// </summary>
public sealed record AudioContainer(string Name, double? Seconds)
{
    /// <summary>6 kbit/s, below any speech codec's usual rate: a file of unknown duration is no longer than this allows.</summary>
    public const long LowestBytesPerSecond = 750;

    /// <summary>The containers OpenAI's audio API takes, as it names them.</summary>
    public const string Supported = "flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm";

    /// <summary>The duration, or at most this when the container does not state it.</summary>
    public double UpperBoundSeconds(long bytes) => Seconds ?? bytes / (double)LowestBytesPerSecond;

    /// <summary>The container of <paramref name="file"/> if it is one of <see cref="Supported"/>, else null.</summary>
    public static AudioContainer? Read(ReadOnlySpan<byte> file)
    {
        if (file.Length >= 12 && file[..4].SequenceEqual("RIFF"u8) && file[8..12].SequenceEqual("WAVE"u8))
        {
            return new("wav", WavSeconds(file, file.Length));
        }
        if (file.Length >= 4 && file[..4].SequenceEqual("fLaC"u8))
        {
            return new("flac", FlacSeconds(file));
        }
        if (file.Length >= 4 && file[..4].SequenceEqual("OggS"u8))
        {
            return new("ogg", OggSeconds(file));
        }
        if (file.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(file) == 0x1A45DFA3)
        {
            return new("webm", MatroskaSeconds(file));
        }
        if (file.Length >= 12 && file[4..8].SequenceEqual("ftyp"u8))
        {
            return new(file[8..12].SequenceEqual("M4A "u8) ? "m4a" : "mp4", Mp4Seconds(file));
        }
        return MpegAudioStart(file) is int start ? new("mp3", MpegAudioSeconds(file, start)) : null;
    }

    /// <summary>What an unsupported file looks like, to name it in the refusal: a few common containers by their
    /// magic, else the file name's extension.</summary>
    public static string Describe(ReadOnlySpan<byte> file, string fileName)
    {
        if (file.Length >= 2 && file[0] == 0xFF && (file[1] & 0xF6) == 0xF0)
        {
            return "aac"; // ADTS: an MPEG sync word with the layer bits zero
        }
        if (file.Length >= 5 && file[..5].SequenceEqual("#!AMR"u8))
        {
            return "amr";
        }
        if (file.Length >= 4 && file[..4].SequenceEqual("caff"u8))
        {
            return "caf";
        }
        if (file.Length >= 4 && file[..4].SequenceEqual("FORM"u8))
        {
            return "aiff";
        }
        var extension = Path.GetExtension(fileName).TrimStart('.');
        return extension.Length is > 0 and <= 16 ? extension.ToLowerInvariant() : "unknown";
    }

    /// <summary>A WAV's data length over its byte rate; with <paramref name="totalLength"/> (the whole file is there)
    /// the data counts only as far as the file goes (a streaming writer leaves 0xFFFFFFFF in the header).</summary>
    internal static double? WavSeconds(ReadOnlySpan<byte> b, long? totalLength = null)
    {
        if (b.Length < 12 || !b[..4].SequenceEqual("RIFF"u8) || !b[8..12].SequenceEqual("WAVE"u8))
        {
            return null;
        }
        uint byteRate = 0;
        for (var i = 12; i + 8 <= b.Length;)
        {
            var id = b.Slice(i, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(b[(i + 4)..]);
            if (id.SequenceEqual("fmt "u8) && i + 20 <= b.Length)
            {
                byteRate = BinaryPrimitives.ReadUInt32LittleEndian(b[(i + 16)..]);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (totalLength is long total)
                {
                    size = Math.Min(size, Math.Max(0, total - (i + 8)));
                }
                return byteRate == 0 ? null : size / (double)byteRate;
            }
            i += 8 + (int)Math.Min(size + (size & 1), int.MaxValue - 16);
        }
        return null;
    }

    private static double? FlacSeconds(ReadOnlySpan<byte> b)
    {
        // fLaC, then STREAMINFO first: a 4-byte block header, 10 bytes of block and frame sizes, then 20 bits of
        // sample rate, 3 of channels, 5 of bits per sample and 36 of total samples (0: unknown).
        if (b.Length < 26 || (b[4] & 0x7F) != 0)
        {
            return null;
        }
        var packed = BinaryPrimitives.ReadUInt64BigEndian(b[18..]);
        var rate = packed >> 44;
        var samples = packed & 0xF_FFFF_FFFF;
        return rate == 0 || samples == 0 ? null : samples / (double)rate;
    }

    private static double? OggSeconds(ReadOnlySpan<byte> b)
    {
        // The first page carries the codec's identification packet; the last page's granule position is the
        // stream's length in samples (Opus: always at 48 kHz, including the pre-skip).
        if (b.Length < 28)
        {
            return null;
        }
        var packet = b[(27 + b[26])..];
        double rate;
        long skip = 0;
        if (packet.Length >= 12 && packet[..8].SequenceEqual("OpusHead"u8))
        {
            rate = 48000;
            skip = BinaryPrimitives.ReadUInt16LittleEndian(packet[10..]);
        }
        else if (packet.Length >= 16 && packet[0] == 1 && packet[1..7].SequenceEqual("vorbis"u8))
        {
            rate = BinaryPrimitives.ReadUInt32LittleEndian(packet[12..]);
        }
        else
        {
            return null;
        }
        var serial = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]);
        for (var i = b.Length - 27; i >= 0; i--)
        {
            if (b[i] == (byte)'O' && b[i..(i + 4)].SequenceEqual("OggS"u8) && BinaryPrimitives.ReadUInt32LittleEndian(b[(i + 14)..]) == serial)
            {
                var granule = BinaryPrimitives.ReadInt64LittleEndian(b[(i + 6)..]);
                return granule <= skip || rate <= 0 ? null : (granule - skip) / rate;
            }
        }
        return null;
    }

    private static double? MatroskaSeconds(ReadOnlySpan<byte> b)
    {
        // EBML elements: an ID (a variable-length integer keeping its marker bit), a size (one without it; all ones:
        // unknown), then the data. The walk enters the EBML header's siblings, Segment and Info, and skips the rest,
        // stopping at the first Cluster (the media; Info precedes it).
        const uint Segment = 0x18538067, Info = 0x1549A966, TimecodeScale = 0x2AD7B1, Duration = 0x4489, Cluster = 0x1F43B675;
        ulong scale = 1_000_000;
        double? duration = null;
        var i = 0;
        while (i < b.Length)
        {
            if (!ReadVint(b, ref i, keepMarker: true, out var id) || !ReadVint(b, ref i, keepMarker: false, out var size, out var unknownSize))
            {
                break;
            }
            if (id is Segment or Info)
            {
                continue; // descend: the children follow
            }
            if (id == Cluster || unknownSize || size > (ulong)(b.Length - i))
            {
                break;
            }
            var data = b.Slice(i, (int)size);
            if (id == TimecodeScale && size is > 0 and <= 8)
            {
                scale = 0;
                foreach (var x in data)
                {
                    scale = scale << 8 | x;
                }
            }
            else if (id == Duration && size is 4 or 8)
            {
                duration = size == 4 ? BinaryPrimitives.ReadSingleBigEndian(data) : BinaryPrimitives.ReadDoubleBigEndian(data);
            }
            i += (int)size;
        }
        return duration is double d && d > 0 && double.IsFinite(d) ? d * scale / 1e9 : null;
    }

    private static bool ReadVint(ReadOnlySpan<byte> b, ref int i, bool keepMarker, out ulong value) =>
        ReadVint(b, ref i, keepMarker, out value, out _);

    private static bool ReadVint(ReadOnlySpan<byte> b, ref int i, bool keepMarker, out ulong value, out bool allOnes)
    {
        value = 0;
        allOnes = false;
        if (i >= b.Length || b[i] == 0)
        {
            return false;
        }
        var length = System.Numerics.BitOperations.LeadingZeroCount((uint)b[i]) - 23;
        if (i + length > b.Length || (keepMarker && length > 4))
        {
            return false;
        }
        var first = keepMarker ? b[i] : b[i] & (0xFF >> length);
        value = (ulong)first;
        var ones = first == 0xFF >> length;
        for (var k = 1; k < length; k++)
        {
            value = value << 8 | b[i + k];
            ones &= b[i + k] == 0xFF;
        }
        allOnes = !keepMarker && ones;
        i += length;
        return true;
    }

    private static double? Mp4Seconds(ReadOnlySpan<byte> b)
    {
        // moov → mvhd holds the duration in timescale units (32-bit fields in version 0, 64-bit times in version 1).
        // moov may follow the media.
        if (FindBox(b, "moov"u8) is not { } moov || FindBox(b.Slice(moov.Start, moov.Length), "mvhd"u8) is not { } header)
        {
            return null;
        }
        var mvhd = b.Slice(moov.Start + header.Start, header.Length);
        if (mvhd.Length < 20)
        {
            return null;
        }
        var (timescale, duration) = mvhd[0] == 1 && mvhd.Length >= 32
            ? (BinaryPrimitives.ReadUInt32BigEndian(mvhd[20..]), BinaryPrimitives.ReadUInt64BigEndian(mvhd[24..]))
            : (BinaryPrimitives.ReadUInt32BigEndian(mvhd[12..]), BinaryPrimitives.ReadUInt32BigEndian(mvhd[16..]));
        return timescale == 0 || duration is 0 or ulong.MaxValue or uint.MaxValue ? null : duration / (double)timescale;
    }

    /// <summary>The data of the first box of <paramref name="type"/> among <paramref name="b"/>'s boxes: a 32-bit size
    /// (1: a 64-bit size follows the type; 0: to the end), the type, the data.</summary>
    private static (int Start, int Length)? FindBox(ReadOnlySpan<byte> b, ReadOnlySpan<byte> type)
    {
        for (long i = 0; i + 8 <= b.Length;)
        {
            long size = BinaryPrimitives.ReadUInt32BigEndian(b[(int)i..]);
            var header = 8L;
            if (size == 1 && i + 16 <= b.Length)
            {
                size = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(b[(int)(i + 8)..]), long.MaxValue);
                header = 16;
            }
            else if (size == 0)
            {
                size = b.Length - i;
            }
            if (size < header || i + size > b.Length)
            {
                return null;
            }
            if (b.Slice((int)i + 4, 4).SequenceEqual(type))
            {
                return ((int)(i + header), (int)(size - header));
            }
            i += size;
        }
        return null;
    }

    /// <summary>Where the first MPEG audio frame starts: at 0, or after an ID3v2 tag (and up to 4 KiB of padding).</summary>
    private static int? MpegAudioStart(ReadOnlySpan<byte> b)
    {
        var i = 0;
        if (b.Length >= 10 && b[..3].SequenceEqual("ID3"u8))
        {
            var tag = (b[6] & 0x7F) << 21 | (b[7] & 0x7F) << 14 | (b[8] & 0x7F) << 7 | (b[9] & 0x7F);
            i = 10 + tag + ((b[5] & 0x10) != 0 ? 10 : 0);
            for (var limit = Math.Min(b.Length - 4, i + 4096); i < limit && b[i] == 0; i++)
            {
            }
        }
        return i + 4 <= b.Length && MpegFrame.Read(b[i..]) is not null ? i : null;
    }

    private static double? MpegAudioSeconds(ReadOnlySpan<byte> b, int start)
    {
        var frame = MpegFrame.Read(b[start..])!.Value;
        var body = b[start..];
        // A VBR file says its frame count in its first frame: Xing/Info after the side information, or VBRI at 32.
        var xing = 4 + frame.SideInfoBytes;
        if (body.Length >= xing + 12 && (body.Slice(xing, 4).SequenceEqual("Xing"u8) || body.Slice(xing, 4).SequenceEqual("Info"u8))
            && (BinaryPrimitives.ReadUInt32BigEndian(body[(xing + 4)..]) & 1) != 0)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(body[(xing + 8)..]) * (double)frame.SamplesPerFrame / frame.SampleRate;
        }
        if (body.Length >= 36 + 18 && body.Slice(36, 4).SequenceEqual("VBRI"u8))
        {
            return BinaryPrimitives.ReadUInt32BigEndian(body[(36 + 14)..]) * (double)frame.SamplesPerFrame / frame.SampleRate;
        }
        return frame.BitsPerSecond == 0 ? null : body.Length * 8.0 / frame.BitsPerSecond;
    }

    /// <summary>An MPEG-1/2/2.5 audio frame header (layers I–III).</summary>
    private readonly record struct MpegFrame(int SampleRate, int BitsPerSecond, int SamplesPerFrame, int SideInfoBytes)
    {
        private static readonly int[][] Kbps =
        [
            [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // MPEG-1 layer I
            [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],    // MPEG-1 layer II
            [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],     // MPEG-1 layer III
            [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],    // MPEG-2/2.5 layer I
            [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],         // MPEG-2/2.5 layers II and III
        ];

        public static MpegFrame? Read(ReadOnlySpan<byte> h)
        {
            if (h.Length < 4 || h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
            {
                return null;
            }
            var version = (h[1] >> 3) & 3;   // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
            var layer = 4 - ((h[1] >> 1) & 3); // 1, 2, 3; 4 is reserved (ADTS AAC uses it)
            var bitrate = h[2] >> 4;
            var rateIndex = (h[2] >> 2) & 3;
            if (version == 1 || layer == 4 || bitrate == 15 || rateIndex == 3)
            {
                return null;
            }
            var mpeg1 = version == 3;
            var table = mpeg1 ? layer - 1 : layer == 1 ? 3 : 4;
            var rate = new[] { 44100, 48000, 32000 }[rateIndex] >> (mpeg1 ? 0 : version == 2 ? 1 : 2);
            var samples = layer == 1 ? 384 : layer == 3 && !mpeg1 ? 576 : 1152;
            var mono = h[3] >> 6 == 3;
            var sideInfo = layer != 3 ? 0 : mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
            return new MpegFrame(rate, Kbps[table][bitrate] * 1000, samples, sideInfo);
        }
    }
}
