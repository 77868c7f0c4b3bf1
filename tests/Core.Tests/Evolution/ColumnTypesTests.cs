using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Evolution;
using MskClickHouse.Core.Formats.Avro;

namespace MskClickHouse.Core.Tests.Evolution;

public sealed class ColumnTypesTests
{
    private static string? Of(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return ColumnTypes.OfJsonValue(ref reader);
    }

    [Theory]
    [InlineData("7", "Int64")]
    [InlineData("-9223372036854775808", "Int64")]
    [InlineData("9223372036854775808", "Float64")]
    [InlineData("1.5", "Float64")]
    [InlineData("1e3", "Float64")]
    [InlineData("\"x\"", "String")]
    [InlineData("true", "Bool")]
    [InlineData("[1,2]", "String")]
    [InlineData("{\"a\":1}", "String")]
    [InlineData("null", null)]
    public void OfJsonValue(string json, string? type) => Assert.Equal(type, Of(json));

    [Theory]
    [InlineData("Int64", "Float64", "Float64")]
    [InlineData("Float64", "Int64", "Float64")]
    [InlineData("Int64", "String", "Int64")]
    [InlineData(null, "Bool", "Bool")]
    [InlineData("Bool", null, "Bool")]
    public void Widen(string? first, string? next, string? widened) => Assert.Equal(widened, ColumnTypes.Widen(first, next));

    [Theory]
    [InlineData("\"long\"", "Int64")]
    [InlineData("\"int\"", "Int32")]
    [InlineData("\"float\"", "Float32")]
    [InlineData("\"double\"", "Float64")]
    [InlineData("\"boolean\"", "Bool")]
    [InlineData("\"string\"", "String")]
    [InlineData("\"bytes\"", "String")]
    [InlineData("[\"null\",\"long\"]", "Int64")]
    [InlineData("[\"null\",\"long\",\"string\"]", "String")]
    [InlineData("\"null\"", null)]
    [InlineData("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}", "DateTime64(3, 'UTC')")]
    [InlineData("{\"type\":\"long\",\"logicalType\":\"local-timestamp-micros\"}", "DateTime64(6)")]
    [InlineData("{\"type\":\"int\",\"logicalType\":\"date\"}", "Date32")]
    [InlineData("{\"type\":\"fixed\",\"name\":\"u\",\"size\":16,\"logicalType\":\"uuid\"}", "UUID")]
    [InlineData("{\"type\":\"array\",\"items\":\"long\"}", "String")]
    [InlineData("{\"type\":\"map\",\"values\":\"long\"}", "String")]
    [InlineData("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "String")]
    public void AvroFieldTypes(string fieldType, string? type)
    {
        var record = AvroSchemaParser.Parse($$"""{"type":"record","name":"R","fields":[{"name":"f","type":{{fieldType}}}]}""");

        Assert.Equal(type, AvroColumnTypes.Of(record.Fields[0].Type));
    }

    [Fact]
    public void Ddl_AddsNullableColumnsIfNotExists_QuotingNames()
    {
        var sql = EvolutionDdl.AddColumns(new TableName("db", "t"), [new NewField("a`b", "Int64", "t", 0, 0), new NewField("n", null, "t", 0, 0), new NewField("c", "Nullable(String)", "t", 0, 0)]);

        Assert.Equal("ALTER TABLE `db`.`t` ADD COLUMN IF NOT EXISTS `a\\`b` Nullable(Int64), ADD COLUMN IF NOT EXISTS `n` Nullable(String), ADD COLUMN IF NOT EXISTS `c` Nullable(String)", sql);
    }

    [Fact]
    public void Ddl_CreatesAMergeTreeOrderedByTheOffsetColumns_WithTheDeduplicationWindowARetryNeeds()
    {
        var sql = EvolutionDdl.CreateTable(new TableName("db", "t"), [new NewField("id", "Int64", "t", 0, 0)]);

        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS `db`.`t` (`_topic` LowCardinality(String), `_partition` Int32, `_offset` Int64, `_timestamp` DateTime64(3, 'UTC'), " +
            "`_timestamp_type` LowCardinality(String), `_key` Nullable(String), `_headers` Map(String, String), `_source` LowCardinality(String), `id` Nullable(Int64)) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 10000",
            sql);
        Assert.True(EvolutionDdl.DeduplicationWindow >= DeduplicationWindowCheck.BlocksNeeded(partitions: 250));
    }
}
