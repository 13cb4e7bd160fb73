using System.Buffers.Binary;
using System.Text;
using AigneHub.Api.Providers;

namespace AigneHub.Tests.Providers;

/// <summary>What a media part's bytes say about its size, each header written here from its format's layout.</summary>
public sealed class MediaSizeTests
{
    [Fact]
    public void A_jpeg_frame_header_after_its_metadata_gives_the_dimensions()
    {
        var jpeg = new List<byte> { 0xFF, 0xD8 };
        jpeg.AddRange([0xFF, 0xE1, 0x00, 0x10, .. new byte[14]]); // an APP1 (EXIF) segment of 16 bytes
        jpeg.AddRange([0xFF, 0xC2, 0x00, 0x11, 0x08, 0x02, 0xD0, 0x05, 0x00, .. new byte[10]]); // progressive SOF: 720 × 1280

        Assert.Equal((1280, 720), MediaSize.ImageDimensions(jpeg.ToArray()));
    }

    [Fact]
    public void Gif_and_webp_headers_give_the_dimensions()
    {
        var gif = "GIF89a"u8.ToArray().Concat(new byte[] { 0x40, 0x01, 0xF0, 0x00 }).ToArray(); // 320 × 240

        var webp = new byte[30];
        "RIFF"u8.CopyTo(webp);
        "WEBPVP8X"u8.CopyTo(webp.AsSpan(8));
        webp[24] = 0x7F; webp[25] = 0x07; // width − 1 = 1919
        webp[27] = 0x37; webp[28] = 0x04; // height − 1 = 1079

        Assert.Equal((320, 240), MediaSize.ImageDimensions(gif));
        Assert.Equal((1920, 1080), MediaSize.ImageDimensions(webp));
    }

    [Fact]
    public void A_wav_duration_is_its_data_length_over_its_byte_rate()
    {
        const int sampleRate = 16_000, channels = 1, bytesPerSample = 2;
        const double seconds = 2.5;
        var data = (int)(seconds * sampleRate * channels * bytesPerSample);
        var wav = new byte[44];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), 36 + data);
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), channels);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), sampleRate * channels * bytesPerSample);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), data);

        Assert.Equal(seconds, AudioContainer.WavSeconds(wav));
    }

    [Fact]
    public void A_pdf_shows_its_page_objects_unless_they_hide_in_object_streams()
    {
        var plain = Encoding.Latin1.GetBytes("%PDF-1.4\n1 0 obj << /Type /Pages /Kids [2 0 R 3 0 R 4 0 R] /Count 3 >>\n"
            + "2 0 obj << /Type /Page >>\n3 0 obj <</Type/Page/Parent 1 0 R>>\n4 0 obj << /Type /Page >>\n%%EOF");
        var compressed = Encoding.Latin1.GetBytes("%PDF-1.5\n5 0 obj << /Type /ObjStm /N 40 >> stream ... endstream\n2 0 obj << /Type /Page >>\n%%EOF");

        Assert.Equal(3, MediaSize.PdfPages(plain));
        Assert.Null(MediaSize.PdfPages(compressed));
    }

    private static readonly string[] ImagenRatios = ["1:1", "3:4", "4:3", "9:16", "16:9"];

    [Theory]
    // Each expected ratio worked out by hand: w / h against 1, 0.75, 1.33, 0.5625 and 1.78, the nearest on a log scale.
    [InlineData("1024x1024", "1:1")]
    [InlineData("1792x1024", "16:9")]   // 1.75
    [InlineData("1024x1792", "9:16")]   // 0.571
    [InlineData("1536x1024", "4:3")]    // 1.5: ln 1.5 = 0.405, ln 1.33 = 0.288 (0.118 away), ln 1.78 = 0.575 (0.170 away)
    [InlineData("1024x1536", "3:4")]
    [InlineData("900x1200", "3:4")]     // exactly
    [InlineData("3000x1000", "16:9")]   // 3 is beyond the widest: the widest
    public void A_size_maps_to_the_nearest_supported_aspect_ratio(string size, string expected)
    {
        Assert.Equal(expected, MediaSize.NearestAspectRatio(size, ImagenRatios));
    }

    [Fact]
    public void Ratios_are_read_in_either_notation_and_come_back_as_written()
    {
        Assert.Equal("3x1", MediaSize.NearestAspectRatio("1536x512", ["1x1", "16x9", "3x1"]));
        Assert.Equal("2:1", MediaSize.NearestAspectRatio("2048x1024", ["1:1", "2:1"]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("auto")]
    [InlineData("2K")]
    [InlineData("0x1024")]
    [InlineData("1024x")]
    [InlineData("-5x10")]
    public void Anything_but_a_width_by_height_has_no_ratio(string? size)
    {
        Assert.Null(MediaSize.NearestAspectRatio(size, ImagenRatios));
        Assert.Null(MediaSize.Dimensions(size));
    }

    [Fact]
    public void A_width_by_height_size_gives_its_numbers()
    {
        Assert.Equal((1280, 720), MediaSize.Dimensions("1280x720"));
    }
}
