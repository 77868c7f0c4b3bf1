using System.Text;
using Google.Protobuf;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Formats.Protobuf;

namespace MskClickHouse.Core.Tests.Formats.Protobuf;

public sealed class ProtoTranscoderTests
{
    public const string Schema = """
        syntax = "proto3";
        package shop;
        import "google/protobuf/timestamp.proto";
        option java_package = "com.example.shop";

        /* an order */
        message Order {
          string id = 1;
          int32 i32 = 2;
          int64 i64 = 3;
          uint32 u32 = 4;
          uint64 u64 = 5;
          sint32 s32 = 6;
          sint64 s64 = 7;
          fixed32 f32 = 8;
          fixed64 f64 = 9;
          sfixed32 sf32 = 10;
          sfixed64 sf64 = 11;
          double d = 12;
          float f = 13;
          bool ok = 14;
          bytes raw = 15;
          Status status = 16;
          repeated int32 nums = 17 [packed = true];
          repeated string tags = 18;
          map<string, int64> attrs = 19;
          Address addr = 20;
          google.protobuf.Timestamp created = 21;
          oneof payment {
            string card = 22;
            int64 account = 23;
          }
          optional string note = 24;
          reserved 100 to 200;
          enum Status { NEW = 0; PAID = 1; }
          message Address { string city = 1; int32 zip = 2; }
        }

        message Other {
          int32 x = 1;
          message Inner { string y = 1; Order.Status s = 2; }
        }
        """;

    private static ProtoMessage Message(params int[] path)
    {
        var file = ProtoSchemaParser.Parse(Schema);
        var m = file.Messages[path[0]];
        foreach (var i in path[1..])
        {
            m = m.Nested[i];
        }

        return m;
    }

    private static string Transcode(ProtoMessage m, byte[] bytes)
    {
        var o = new JsonOutput(16);
        ProtoTranscoder.Transcode(m, bytes, o);
        return Encoding.UTF8.GetString(o.Written);
    }

    private static byte[] Write(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static byte[] Nested(Action<CodedOutputStream> write) => Write(write);

    [Fact]
    public void Transcode_EveryFieldKind_WritesEachInItsNumberForm()
    {
        var address = Nested(o => { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("Zürich"); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(8000); });
        var created = Nested(o => { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(1_700_000_000); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(123_456_789); });
        var entry = Nested(o => { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("k"); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(-5); });
        var packed = Nested(o => { o.WriteInt32(1); o.WriteInt32(-1); o.WriteInt32(300); });
        var bytes = Write(o =>
        {
            // Out of declaration order on purpose: the JSON follows the schema, not the wire.
            o.WriteTag(20, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(address));
            o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("o-1");
            o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(-7);
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(long.MinValue);
            o.WriteTag(4, WireFormat.WireType.Varint); o.WriteUInt32(uint.MaxValue);
            o.WriteTag(5, WireFormat.WireType.Varint); o.WriteUInt64(ulong.MaxValue);
            o.WriteTag(6, WireFormat.WireType.Varint); o.WriteSInt32(-3);
            o.WriteTag(7, WireFormat.WireType.Varint); o.WriteSInt64(long.MinValue);
            o.WriteTag(8, WireFormat.WireType.Fixed32); o.WriteFixed32(4_000_000_000);
            o.WriteTag(9, WireFormat.WireType.Fixed64); o.WriteFixed64(ulong.MaxValue);
            o.WriteTag(10, WireFormat.WireType.Fixed32); o.WriteSFixed32(-2);
            o.WriteTag(11, WireFormat.WireType.Fixed64); o.WriteSFixed64(-9);
            o.WriteTag(12, WireFormat.WireType.Fixed64); o.WriteDouble(0.1);
            o.WriteTag(13, WireFormat.WireType.Fixed32); o.WriteFloat(1.5f);
            o.WriteTag(14, WireFormat.WireType.Varint); o.WriteBool(true);
            o.WriteTag(15, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(0x41, 0x22));
            o.WriteTag(16, WireFormat.WireType.Varint); o.WriteEnum(1);
            o.WriteTag(17, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(packed));
            o.WriteTag(17, WireFormat.WireType.Varint); o.WriteInt32(4); // an unpacked element after a packed run
            o.WriteTag(18, WireFormat.WireType.LengthDelimited); o.WriteString("a");
            o.WriteTag(18, WireFormat.WireType.LengthDelimited); o.WriteString("b");
            o.WriteTag(19, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(entry));
            o.WriteTag(21, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(created));
            o.WriteTag(23, WireFormat.WireType.Varint); o.WriteInt64(77);
            o.WriteTag(99, WireFormat.WireType.Varint); o.WriteInt64(1); // unknown field: skipped
        });

        Assert.Equal(
            """{"id":"o-1","i32":-7,"i64":-9223372036854775808,"u32":4294967295,"u64":18446744073709551615,"s32":-3,"s64":-9223372036854775808,"f32":4000000000,"f64":18446744073709551615,"sf32":-2,"sf64":-9,"d":0.1,"f":1.5,"ok":true,"raw":"A\"","status":"PAID","nums":[1,-1,300,4],"tags":["a","b"],"attrs":{"k":-5},"addr":{"city":"Zürich","zip":8000},"created":"2023-11-14T22:13:20.123456789Z","card":null,"account":77,"note":null}""",
            Transcode(Message(0), bytes));
    }

    [Fact]
    public void Transcode_EmptyMessage_GivesProto3Defaults_AndNullForMessagesOneofsAndOptional()
    {
        Assert.Equal(
            """{"id":"","i32":0,"i64":0,"u32":0,"u64":0,"s32":0,"s64":0,"f32":0,"f64":0,"sf32":0,"sf64":0,"d":0,"f":0,"ok":false,"raw":"","status":"NEW","nums":[],"tags":[],"attrs":{},"addr":null,"created":null,"card":null,"account":null,"note":null}""",
            Transcode(Message(0), []));
    }

    [Fact]
    public void Transcode_NestedMessageByIndexPath_ResolvesTypesAcrossScopes()
    {
        var bytes = Write(o => { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("y"); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteEnum(1); });
        Assert.Equal("""{"y":"y","s":"PAID"}""", Transcode(Message(1, 0), bytes));
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x41 }, "runs past the end")]
    [InlineData(new byte[] { 0x10 }, "varint")]
    [InlineData(new byte[] { 0x0B }, "wire type 3")]
    [InlineData(new byte[] { 0x15, 0x01, 0x00, 0x00, 0x00 }, "wire type 5")]
    public void Transcode_BytesThatDoNotFit_SayWhy(byte[] data, string expected)
    {
        var e = Assert.Throws<ProtoDataException>(() => Transcode(Message(0), data));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("syntax = \"proto3\"; message A { Missing m = 1; }", "Missing")]
    [InlineData("syntax = \"proto2\"; message A { optional group G = 1 { } }", "groups")]
    [InlineData("syntax = \"proto3\"; message A { int32 x = zero; }", "zero")]
    public void Parse_UnusableProto_SaysWhy(string text, string expected)
    {
        var e = Assert.Throws<ProtoSchemaException>(() => ProtoSchemaParser.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Proto2OptionalScalar_IsNullWhenAbsent()
    {
        var file = ProtoSchemaParser.Parse("syntax = \"proto2\"; message A { optional int32 x = 1; required string y = 2; repeated int64 z = 3; }");
        Assert.Equal("""{"x":null,"y":null,"z":[]}""", Transcode(file.Messages[0], []));
    }
}
