using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Delivery;

public sealed class SupersededVersionsTests
{
    private static (KafkaBatch Batch, PartitionRecords Partition) Batch(params string?[] keys)
    {
        var records = keys.Select((k, i) => new SimRecord("t", 0, 10 + i, 1, k is null ? null : System.Text.Encoding.UTF8.GetBytes(k), "{}"u8.ToArray(), [])).ToList();
        var batch = KafkaEventDecoder.Decode(KafkaEventWriter.Write(records));
        return (batch, batch.Partitions[0]);
    }

    [Fact]
    public void Of_OlderChangesOfAKeyWithALaterPresentChange_AreSuperseded()
    {
        var (batch, partition) = Batch("a", "b", "a", "a", "b", null, null);
        using (batch)
        {
            // Present: the last change of a (13), and the keyless 16. Missing: everything else.
            var superseded = SupersededVersions.Of(batch, partition, new HashSet<long> { 13, 16 });

            Assert.Equal([10, 12], superseded.Order());
        }
    }

    [Fact]
    public void Of_LaterChangeMissingToo_SupersedesNothing()
    {
        var (batch, partition) = Batch("a", "a", "b");
        using (batch)
        {
            Assert.Empty(SupersededVersions.Of(batch, partition, new HashSet<long> { 12 }));
        }
    }
}
