using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Evolution;

/// <summary>One encoded partition about to be inserted, with the registry schemas its values were decoded with (if any).</summary>
public sealed record EvolutionInput(EncodedPartition Rows, ResolvedSchemas? Schemas);
