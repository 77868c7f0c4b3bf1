using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Audit;

/// <summary>A delivered range whose acknowledgement is proven, with what it held: the audit checks it for missing records.</summary>
public readonly record struct AuditedRange(OffsetRange Range, RangeCount Count);
