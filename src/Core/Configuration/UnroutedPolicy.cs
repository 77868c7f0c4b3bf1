namespace MskClickHouse.Core.Configuration;

/// <summary>UNROUTED: what to do with a record of a routed topic that no rule of ROUTES matches.</summary>
public enum UnroutedPolicy
{
    /// <summary>Write it to the dead-letter table with a reason naming the missing route.</summary>
    DeadLetter,

    /// <summary>Count it (metric UnroutedSkipped) and skip it.</summary>
    Skip,
}
