using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.SchemaRegistryEmulator;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Cdc;

/// <summary>How the generated change events are serialized.</summary>
public enum CdcValues
{
    /// <summary>JsonConverter, schemas.enable=true: logical types converted, typed columns.</summary>
    JsonWithSchema,

    /// <summary>JsonConverter, schemas.enable=false: values as Debezium wrote them, raw columns.</summary>
    JsonWithoutSchema,

    /// <summary>Confluent AvroConverter through the registry emulator: logical types from connect.name, typed columns.</summary>
    Avro,
}

/// <summary>
/// The real sink with CDC_FORMAT=debezium over the topics <c>customers</c> and <c>notes</c>, each routed to its
/// <c>ReplacingMergeTree(_version, _is_deleted)</c> table (docs/cdc.md's DDL), with a fault-injecting HTTP layer.
/// </summary>
internal sealed class CdcSink : RealSink
{
    public const int AvroSchemaId = 1;

    private readonly RegistryEmulator? _registry;

    private CdcSink(ClickHouseFixture fixture, SinkOptions options, FaultInjectingHandler faults, DriverClickHouseGateway gateway, IInvocationHandler handler, RecordingLog log, RecordingMetrics metrics, CdcValues values, RegistryEmulator? registry)
        : base(fixture, options, gateway, handler, log, metrics)
    {
        Faults = faults;
        Values = values;
        _registry = registry;
    }

    public FaultInjectingHandler Faults { get; }

    public CdcValues Values { get; }

    /// <summary>The columns of both tables: typed with a schema, as Debezium writes the values without one.</summary>
    public static string Columns(CdcValues values) => values == CdcValues.JsonWithoutSchema
        ? "id Int32, name String, birth Int32, updated_at Int64, balance String, doc String, created String"
        : "id Int32, name String, birth Date32, updated_at DateTime64(6, 'UTC'), balance Decimal(12, 2), doc String, created DateTime64(6, 'UTC')";

    public static async Task<CdcSink> CreateAsync(ClickHouseFixture fixture, CdcValues values, int faultSeed = 0)
    {
        var db = await fixture.CreateDatabaseAsync("cdc");
        foreach (var table in new[] { ChangeHistory.Customers, ChangeHistory.Notes })
        {
            await fixture.Server.QueryAsync(
                $"CREATE TABLE {db}.{table} ({Columns(values)}, _version UInt64, _is_deleted UInt8, _topic LowCardinality(String), _partition Int32, _offset Int64) " +
                "ENGINE = ReplacingMergeTree(_version, _is_deleted) ORDER BY id SETTINGS non_replicated_deduplication_window = 10000");
        }

        RegistryEmulator? registry = null;
        SchemaCache? schemas = null;
        var options = OptionsFor(fixture, db, new Dictionary<string, TableName>(), "cdc-sink") with
        {
            ChangeEvents = ChangeEventFormat.Debezium,
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        if (values == CdcValues.Avro)
        {
            registry = new RegistryEmulator();
            registry.AddConfluent(AvroSchemaId, "AVRO", ChangeEventAvro.Schema);
            options = options with { DefaultValueFormat = ValueFormat.Avro, SchemaRegistry = new SchemaRegistryOptions { ConfluentUrl = registry.Url } };
            schemas = await SchemaRegistryFactory.CreateAsync(options.SchemaRegistry, new Dictionary<string, string?>(), CancellationToken.None);
        }

        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None, faultSeed);
        var gateway = new DriverClickHouseGateway(options.Connection, faults);
        var log = new RecordingLog();
        var metrics = new RecordingMetrics();
        var handler = await SinkHandlerFactory.CreateAsync(options, gateway, log, metrics, TimeProvider.System, CancellationToken.None, schemas);
        return new CdcSink(fixture, options, faults, gateway, handler, log, metrics, values, registry);
    }

    /// <summary>The value bytes of a change in this sink's serialization (null: a tombstone).</summary>
    public byte[]? Value(SourceChange change) => Values switch
    {
        CdcValues.Avro => ChangeEventAvro.Value(change, AvroSchemaId),
        _ => DebeziumJson.Value(change, Values == CdcValues.JsonWithSchema),
    };

    /// <summary>One invocation; a thrown exception is a function error.</summary>
    public async Task<InvocationOutcome> InvokeAsync(byte[] payload)
    {
        try
        {
            return new InvocationOutcome(true, await HandleAsync(payload, TimeSpan.FromSeconds(30)));
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            return InvocationOutcome.FunctionError;
        }
    }

    /// <summary>A table's live rows under FINAL as TSV, in the source's terms (a decimal as its unscaled cents).</summary>
    public Task<string> LiveRowsAsync(string table) => Fixture.Server.QueryAsync(
        $"SELECT id, name, birth, updated_at, {(Values == CdcValues.JsonWithoutSchema ? "balance" : "toInt64(balance * 100)")}, doc, created " +
        $"FROM {Database}.{table} FINAL WHERE _is_deleted = 0 ORDER BY id FORMAT TSV");

    /// <summary>What <see cref="LiveRowsAsync"/> must answer for a source table's final state.</summary>
    public string Expected(IReadOnlyDictionary<int, SourceRow> rows) => string.Concat(rows.Values.OrderBy(r => r.Id).Select(r => Values == CdcValues.JsonWithoutSchema
        ? FormattableString.Invariant($"{r.Id}\t{r.Name}\t{r.BirthDays}\t{r.UpdatedMicros}\t{DebeziumJson.DecimalBase64(r.BalanceCents)}\t{r.Doc}\t{r.Created}\n")
        : FormattableString.Invariant($"{r.Id}\t{r.Name}\t{DateOnly.FromDayNumber(719_162 + r.BirthDays):yyyy-MM-dd}\t{Micros(r.UpdatedMicros)}\t{r.BalanceCents}\t{r.Doc}\t{r.Created.Replace('T', ' ').TrimEnd('Z')}\n")));

    private static string Micros(long micros) => DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _registry?.Dispose();
        }

        base.Dispose(disposing);
    }
}
