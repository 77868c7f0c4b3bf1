namespace MskClickHouse.Core.Delivery.State;

/// <summary>The states a cached invocation plans from, and the version of the write that recorded them.</summary>
/// <param name="Snapshot">What <see cref="IStateStore.LoadAsync"/> would have answered had nobody written since.</param>
/// <param name="Version">The version this process's last write of every one of these partitions had.</param>
public sealed record CachedStates(StateSnapshot Snapshot, long Version);

/// <summary>
/// The state this process wrote last, kept between invocations so that a steady-state invocation skips the state read
/// (docs/exactly-once.md, "The in-process state cache"). It is never trusted alone: the state write planned from it is
/// versioned just above the cached version (<see cref="IStateStore.NewVersion"/>), so any state another writer
/// recorded since wins over it, and the read-back after that write treats every plan another writer recorded since the
/// cached version as a conflict. Entries are taken out when an invocation starts and put back only when it ended
/// cleanly, so a failed, cancelled or crashed invocation leaves nothing behind. A source whose cached plan was found
/// stale (<see cref="Stale"/>: another execution environment wrote since) is planned from a state read until a read shows
/// that nobody else wrote since this process's last write (<see cref="Loaded"/>): when environments take turns on the
/// same partitions the cache is stale on nearly every invocation, and a stale plan costs a write and a read-back more
/// than reading first.
/// </summary>
public sealed class StateCache(TimeProvider time)
{
    /// <summary>
    /// Older entries are not used: the read-back finds other writers by their plan records, which the state table's
    /// TTL deletes a day after they were written; five minutes keeps every record written since well inside that day.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, Entry> _bySource = [];

    /// <summary>
    /// Takes this source's entry out of the cache and returns it when the batch can be planned from it alone: every
    /// partition of the batch was in the last write (one write, one version), none is legacy, the entry is younger than
    /// <see cref="MaxAge"/>, and every batch starts after every range recorded for its partition (the steady state: the
    /// mapping committed those ranges, so the plan is a new unit under the recorded nonce). Otherwise null: load.
    /// </summary>
    public CachedStates? Take(SourceIdentity source, IReadOnlyCollection<(PartitionKey Key, long FirstOffset)> batch)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(batch);
        Entry? entry;
        lock (_bySource)
        {
            if (!_bySource.Remove(source.Name, out entry) || _distrusted.Contains(source.Name))
            {
                return null;
            }
        }

        if (batch.Count == 0 || time.GetUtcNow() - entry.WrittenAt > MaxAge)
        {
            return null;
        }

        var states = new Dictionary<PartitionKey, PartitionState>();
        foreach (var (key, first) in batch)
        {
            if (!entry.States.TryGetValue(key, out var state) || state.Legacy || state.Entries.Any(e => e.Range.Last >= first))
            {
                return null;
            }

            states[key] = state with { Version = entry.Version };
        }

        return new CachedStates(new StateSnapshot(states, new HashSet<PartitionKey>()), entry.Version);
    }

    /// <summary>
    /// Remembers the states of one acknowledged write (all of it, one version) by an invocation that ended cleanly:
    /// every partition delivered, every check passed, no write of it left with an unknown outcome.
    /// </summary>
    public void Remember(SourceIdentity source, IReadOnlyCollection<PartitionState> states, long version)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(states);
        var entry = new Entry(states.ToDictionary(s => s.Key), version, time.GetUtcNow());
        lock (_bySource)
        {
            _bySource[source.Name] = entry;
            _lastWritten[source.Name] = entry;
        }
    }

    /// <summary>A plan made from this source's cached write lost to another writer's: plan from a state read from now on.</summary>
    public void Stale(SourceIdentity source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_bySource)
        {
            _distrusted.Add(source.Name);
        }
    }

    /// <summary>
    /// A state read of this source's partitions: when every partition of this process's last remembered write that the
    /// read saw (at least one) still holds that write's version, nobody else wrote them since, so the cache is used again
    /// (it is never trusted alone: the write planned from it is fenced and read back).
    /// </summary>
    public void Loaded(SourceIdentity source, StateSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_bySource)
        {
            if (_distrusted.Contains(source.Name) && _lastWritten.TryGetValue(source.Name, out var last) &&
                last.States.Keys.Any(snapshot.States.ContainsKey) &&
                last.States.Keys.All(k => !snapshot.States.TryGetValue(k, out var s) || s.Version == last.Version))
            {
                _distrusted.Remove(source.Name);
            }
        }
    }

    /// <summary>Forgets everything (an invocation of this source did not end cleanly).</summary>
    public void Forget(SourceIdentity source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_bySource)
        {
            _bySource.Remove(source.Name);
        }
    }

    /// <summary>Per source, this process's last remembered write, kept when an invocation takes it out.</summary>
    private readonly Dictionary<string, Entry> _lastWritten = [];

    /// <summary>Sources planned from a state read until <see cref="Loaded"/> shows the cache would be current again.</summary>
    private readonly HashSet<string> _distrusted = [];

    private sealed record Entry(Dictionary<PartitionKey, PartitionState> States, long Version, DateTimeOffset WrittenAt);
}
