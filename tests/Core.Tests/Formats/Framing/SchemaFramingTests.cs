using MskClickHouse.Core.Formats.Framing;





namespace MskClickHouse.Core.Tests.Formats.Framing;

public sealed class SchemaFramingTests
{
    [Fact]
    public void TryParse_ConfluentHeader_ReadsBigEndianIdAndPayloadStart()
    {
        byte[] value = [0x00, 0x00, 0x01, 0x02, 0x03, 0xAA, 0xBB];
        Assert.Null(SchemaFraming.TryParse(value, out var framed));
        Assert.Equal(SchemaRef.Confluent(0x010203), framed.Schema);
        Assert.Equal(5, framed.PayloadStart);
        Assert.Equal(GlueCompression.None, framed.Compression);
    }

    [Fact]
    public void TryParse_GlueHeader_ReadsUuidInNetworkOrderAndCompression()
    {
        var id = Guid.Parse("0b3c1a2d-4e5f-6789-abcd-ef0123456789");
        var value = new byte[20];
        SchemaFraming.WriteGlue(value, id, GlueCompression.Zlib);
        Assert.Equal("0b3c1a2d4e5f6789abcdef0123456789", Convert.ToHexStringLower(value.AsSpan(2, 16)));
        Assert.Null(SchemaFraming.TryParse(value, out var framed));
        Assert.Equal(SchemaRef.Glue(id), framed.Schema);
        Assert.Equal(18, framed.PayloadStart);
        Assert.Equal(GlueCompression.Zlib, framed.Compression);
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0x00, 0x00, 0x01 }, "too short for the Confluent")]
    [InlineData(new byte[] { 0x03, 0x00, 0x01 }, "too short for the Glue")]
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x31, 0x7D }, "0x7b")]
    [InlineData(new byte[] { 0x00, 0xFF, 0xFF, 0xFF, 0xFF }, "negative schema id")]
    public void TryParse_BadFraming_SaysWhy(byte[] value, string expected)
    {
        var reason = SchemaFraming.TryParse(value, out _);
        Assert.NotNull(reason);
        Assert.Contains(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_GlueUnknownCompressionByte_SaysWhy()
    {
        var value = new byte[20];
        SchemaFraming.WriteGlue(value, Guid.NewGuid(), GlueCompression.None);
        value[1] = 0x07;
        Assert.Contains("compression byte 0x07", SchemaFraming.TryParse(value, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void MessageIndexes_SingleZero_MeansFirstMessage()
    {
        Span<int> path = stackalloc int[ConfluentMessageIndexes.MaxDepth];
        Assert.Null(ConfluentMessageIndexes.TryRead([0x00, 0x08], path, out var depth, out var consumed));
        Assert.Equal(1, depth);
        Assert.Equal(0, path[0]);
        Assert.Equal(1, consumed);
    }

    [Fact]
    public void MessageIndexes_ZigZagCountAndPath_AreRead()
    {
        // count 2 (zigzag 4), indexes 1 (zigzag 2) and 3 (zigzag 6): the 4th nested message of the 2nd message.
        Span<int> path = stackalloc int[ConfluentMessageIndexes.MaxDepth];
        Assert.Null(ConfluentMessageIndexes.TryRead([0x04, 0x02, 0x06, 0xFF], path, out var depth, out var consumed));
        Assert.Equal(2, depth);
        Assert.Equal([1, 3], path[..2].ToArray());
        Assert.Equal(3, consumed);
    }

    [Theory]
    [InlineData(new byte[] { 0x04, 0x02 })]
    [InlineData(new byte[] { 0x01 })]
    [InlineData(new byte[] { 0xFF })]
    public void MessageIndexes_Corrupt_SaysWhy(byte[] data)
    {
        Span<int> path = stackalloc int[ConfluentMessageIndexes.MaxDepth];
        Assert.NotNull(ConfluentMessageIndexes.TryRead(data, path, out _, out _));
    }
}
