namespace MskClickHouse.Simulation;

/// <summary>A row of a generated source table: one column of each Debezium logical type the CDC mapping converts.</summary>
/// <param name="BirthDays">io.debezium.time.Date: days since 1970-01-01.</param>
/// <param name="UpdatedMicros">io.debezium.time.MicroTimestamp: microseconds since the epoch.</param>
/// <param name="BalanceCents">Connect Decimal with scale 2: the unscaled value.</param>
/// <param name="Doc">io.debezium.data.Json: a compact JSON document.</param>
/// <param name="Created">io.debezium.time.ZonedTimestamp: ISO 8601 text in UTC.</param>
public sealed record SourceRow(int Id, string Name, int BirthDays, long UpdatedMicros, long BalanceCents, string Doc, string Created);

/// <summary>One change of a source table as Debezium emits it: op c, r, u, d or t, or a tombstone after a delete.</summary>
/// <param name="KeyOnlyBefore">A delete's <c>before</c> carries only the key (the source's default replica identity).</param>
public sealed record SourceChange(string Table, char Op, SourceRow? Before, SourceRow? After, bool IsTombstone, int KeyId, bool KeyOnlyBefore = false);

/// <summary>
/// A seeded change history of two source tables, in commit order, with the tables' final states: <c>customers</c>
/// gets a snapshot (op r), inserts, several updates per key, deletes each followed by a tombstone, and primary-key
/// changes (delete + tombstone of the old key, create of the new); <c>notes</c> gets inserts, a truncate (op t), and
/// more inserts.
/// </summary>
public sealed class ChangeHistory
{
    public const string Customers = "customers";
    public const string Notes = "notes";

    private ChangeHistory(List<SourceChange> changes, Dictionary<int, SourceRow> customers, Dictionary<int, SourceRow> notes)
    {
        Changes = changes;
        FinalCustomers = customers;
        FinalNotes = notes;
    }

    public IReadOnlyList<SourceChange> Changes { get; }

    /// <summary>The source's <c>customers</c> table after every change.</summary>
    public IReadOnlyDictionary<int, SourceRow> FinalCustomers { get; }

    /// <summary>The source's <c>notes</c> table after every change (only the rows inserted after the truncate).</summary>
    public IReadOnlyDictionary<int, SourceRow> FinalNotes { get; }

    /// <summary>The changes that carry a row: every change but tombstones and truncates.</summary>
    public int RowChanges(string table) => Changes.Count(c => c.Table == table && !c.IsTombstone && c.Op != 't');

    public static ChangeHistory Generate(int seed, int snapshotRows = 20, int changes = 120)
    {
        var random = new Random(seed);
        var all = new List<SourceChange>();
        var live = new Dictionary<int, SourceRow>();
        var nextId = 1;
        long clock = 1_735_689_600_000_000; // 2025-01-01T00:00:00Z in microseconds

        SourceRow NewRow(int id) => Row(random, id, clock += random.Next(1, 5_000_000));

        for (var i = 0; i < snapshotRows; i++)
        {
            var row = NewRow(nextId++);
            live[row.Id] = row;
            all.Add(new SourceChange(Customers, 'r', null, row, false, row.Id));
        }

        var pkChanges = 0;
        for (var i = 0; i < changes; i++)
        {
            var roll = random.Next(100);
            var ids = live.Keys.Order().ToList();
            if (ids.Count == 0 || roll < 20)
            {
                var row = NewRow(nextId++);
                live[row.Id] = row;
                all.Add(new SourceChange(Customers, 'c', null, row, false, row.Id));
            }
            else if (roll < 75)
            {
                var before = live[ids[random.Next(ids.Count)]];
                var after = Row(random, before.Id, clock += random.Next(1, 5_000_000)) with { Created = before.Created };
                live[before.Id] = after;
                all.Add(new SourceChange(Customers, 'u', before, after, false, before.Id));
            }
            else if (roll < 90 || pkChanges >= 3)
            {
                var before = live[ids[random.Next(ids.Count)]];
                live.Remove(before.Id);
                all.Add(new SourceChange(Customers, 'd', before, null, false, before.Id, KeyOnlyBefore: random.Next(2) == 0));
                all.Add(new SourceChange(Customers, 'd', null, null, true, before.Id));
            }
            else
            {
                // UPDATE customers SET id = <new> ...: Debezium emits a delete and a tombstone of the old key, then a create.
                pkChanges++;
                var before = live[ids[random.Next(ids.Count)]];
                var after = before with { Id = nextId++, UpdatedMicros = clock += random.Next(1, 5_000_000) };
                live.Remove(before.Id);
                live[after.Id] = after;
                all.Add(new SourceChange(Customers, 'd', before, null, false, before.Id));
                all.Add(new SourceChange(Customers, 'd', null, null, true, before.Id));
                all.Add(new SourceChange(Customers, 'c', null, after, false, after.Id));
            }
        }

        var notes = new Dictionary<int, SourceRow>();
        for (var i = 1; i <= 10; i++)
        {
            if (i == 6)
            {
                notes.Clear();
                all.Add(new SourceChange(Notes, 't', null, null, false, 0));
            }

            var row = Row(random, i, clock += 1_000);
            notes[i] = row;
            all.Add(new SourceChange(Notes, 'c', null, row, false, i));
        }

        return new ChangeHistory(all, live, notes);
    }

    private static SourceRow Row(Random random, int id, long micros)
    {
        string[] names = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Edsger", "Frances", "Zoë"];
        var created = DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return new SourceRow(
            id,
            $"{names[random.Next(names.Length)]} {random.Next(1000)}",
            random.Next(-3_000, 20_000),
            micros,
            random.NextInt64(-1_000_000, 100_000_000),
            $"{{\"tier\":\"{(random.Next(3) == 0 ? "gold" : "basic")}\",\"visits\":{random.Next(100)}}}",
            created);
    }
}
