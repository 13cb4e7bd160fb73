using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace AigneHub.Harness;

/// <summary>Small valid media files made on the spot, for the fake provider to answer with and the tour to upload:
/// a PNG (RGB, a gradient), a canonical PCM WAV of a known length (a 440 Hz tone) and its duration read back from
/// its chunks, and an MP4 that is an <c>ftyp</c> box and an <c>mdat</c> box.</summary>
public static class MediaFiles
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] Crc32Table = BuildCrc32Table();

    public static byte[] Png(int width, int height)
    {
        // Each row: filter type 0, then RGB per pixel.
        var raw = new byte[height * (1 + width * 3)];
        for (int y = 0, i = 0; y < height; y++)
        {
            raw[i++] = 0;
            for (var x = 0; x < width; x++)
            {
                raw[i++] = (byte)(x * 255 / Math.Max(1, width - 1));
                raw[i++] = (byte)(y * 255 / Math.Max(1, height - 1));
                raw[i++] = 128;
            }
        }
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        using var png = new MemoryStream();
        png.Write(PngSignature);
        WritePngChunk(png, "IHDR", header);
        WritePngChunk(png, "IDAT", compressed.ToArray());
        WritePngChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Whether <paramref name="bytes"/> start as a PNG does, and its size from the IHDR chunk.</summary>
    public static (int Width, int Height)? PngSize(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 24 && bytes[..8].SequenceEqual(PngSignature) && bytes.Slice(12, 4).SequenceEqual("IHDR"u8)
            ? (BinaryPrimitives.ReadInt32BigEndian(bytes[16..]), BinaryPrimitives.ReadInt32BigEndian(bytes[20..]))
            : null;

    /// <summary>A mono 16-bit PCM WAV of exactly <paramref name="seconds"/> (rounded to whole samples) at <paramref name="sampleRate"/>.</summary>
    public static byte[] Wav(double seconds, int sampleRate = 8000)
    {
        var samples = (int)Math.Round(seconds * sampleRate);
        var wav = new byte[44 + samples * 2];
        var span = wav.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], wav.Length - 8);
        "WAVE"u8.CopyTo(span[8..]);
        "fmt "u8.CopyTo(span[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2); // byte rate
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2); // block align
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], samples * 2);
        for (var i = 0; i < samples; i++)
        {
            var sample = (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / sampleRate));
            BinaryPrimitives.WriteInt16LittleEndian(span[(44 + i * 2)..], sample);
        }
        return wav;
    }

    /// <summary>A WAV's duration: its <c>data</c> chunk's size ÷ the byte rate of its <c>fmt </c> chunk, walking the
    /// chunks; null when it is no RIFF/WAVE file or lacks either chunk.</summary>
    public static double? WavSeconds(ReadOnlySpan<byte> wav)
    {
        if (wav.Length < 12 || !wav[..4].SequenceEqual("RIFF"u8) || !wav.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            return null;
        }
        int? byteRate = null, dataBytes = null;
        for (var at = 12; at + 8 <= wav.Length;)
        {
            var id = wav.Slice(at, 4);
            var size = BinaryPrimitives.ReadInt32LittleEndian(wav[(at + 4)..]);
            if (size < 0)
            {
                return null;
            }
            if (id.SequenceEqual("fmt "u8) && at + 20 <= wav.Length)
            {
                byteRate = BinaryPrimitives.ReadInt32LittleEndian(wav[(at + 16)..]);
            }
            else if (id.SequenceEqual("data"u8))
            {
                dataBytes = Math.Min(size, wav.Length - at - 8);
            }
            at += 8 + size + (size & 1);
        }
        return byteRate is > 0 && dataBytes is int data ? data / (double)byteRate.Value : null;
    }

    /// <summary>An MP4 as far as a container check goes: an <c>ftyp</c> box (isom) and an <c>mdat</c> box holding <paramref name="marker"/>.</summary>
    public static byte[] Mp4(string marker)
    {
        var payload = Encoding.UTF8.GetBytes(marker);
        var mp4 = new byte[24 + 8 + payload.Length];
        var span = mp4.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, 24);
        "ftypisom"u8.CopyTo(span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], 0x200);
        "isommp41"u8.CopyTo(span[16..]);
        BinaryPrimitives.WriteInt32BigEndian(span[24..], 8 + payload.Length);
        "mdat"u8.CopyTo(span[28..]);
        payload.CopyTo(span[32..]);
        return mp4;
    }

    private static void WritePngChunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type).CopyTo(typed, 0);
        data.CopyTo(typed, 4);
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = Crc32Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrc32Table()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
