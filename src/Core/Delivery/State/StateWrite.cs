namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// One partition's state to record, and the version the server must still find recorded for the partition when it
/// applies the write (0: none). A write applied late, after its writer gave up, is judged at that instant: if anyone
/// recorded the partition since its writer read it, the server drops the row (docs/exactly-once.md, "The fenced state
/// write").
/// </summary>
/// <param name="State">What to record.</param>
/// <param name="Expected">The newest version of the partition's state this write is based on: the version the plan
/// was loaded from (or cached at), or, for a landed mark or a step-back, the version of the writer's own plan.</param>
public readonly record struct StateWrite(PartitionState State, long Expected);
