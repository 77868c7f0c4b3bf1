using System.Runtime.InteropServices;
using System.Text;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>
/// The one chDB engine of this process: a single connection whose calls are serialized by
/// <see cref="AcquireAsync"/>. Callers hold the lease for a whole request so that per-request
/// settings (SET ... then restore) cannot interleave with another request.
/// </summary>
internal sealed class ChdbEngine : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private nint _connectionSlot;

    private ChdbEngine(nint connectionSlot)
    {
        _connectionSlot = connectionSlot;
    }

    /// <summary>Opens the engine on <paramref name="dataDirectory"/> (created when missing).</summary>
    public static ChdbEngine Open(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        string[] argv = ["clickhouse", "--path=" + dataDirectory];
        var slot = ChdbNative.chdb_connect(argv.Length, argv);
        if (slot == 0 || Marshal.ReadIntPtr(slot) == 0)
        {
            throw new InvalidOperationException($"chdb_connect failed for data directory {dataDirectory}");
        }

        return new ChdbEngine(slot);
    }

    /// <summary>Exclusive use of the connection until the lease is disposed.</summary>
    public async Task<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        return new Lease(this);
    }

    public void Dispose()
    {
        _gate.Wait();
        try
        {
            var slot = Interlocked.Exchange(ref _connectionSlot, 0);
            if (slot != 0)
            {
                ChdbNative.chdb_close_conn(slot);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private nint Connection
    {
        get
        {
            ObjectDisposedException.ThrowIf(_connectionSlot == 0, this);
            return Marshal.ReadIntPtr(_connectionSlot);
        }
    }

    /// <summary>A held lock on the engine; all engine calls go through it.</summary>
    internal sealed unsafe class Lease(ChdbEngine engine) : IDisposable
    {
        private ChdbEngine? _engine = engine;

        private ChdbEngine Engine => _engine ?? throw new ObjectDisposedException(nameof(Lease));

        /// <summary>Runs one statement; the output uses the statement's FORMAT clause, else <paramref name="format"/>.</summary>
        public ChdbResult Query(string sql, string format, IReadOnlyList<KeyValuePair<string, string>>? parameters = null)
        {
            var sqlBytes = Encoding.UTF8.GetBytes(sql);
            var formatBytes = Encoding.UTF8.GetBytes(format);
            parameters ??= [];
            var encoded = new byte[parameters.Count * 2][];
            var handles = new GCHandle[encoded.Length];
            var pointers = new nint[encoded.Length];
            var lengths = new nuint[encoded.Length];
            try
            {
                for (var i = 0; i < parameters.Count; i++)
                {
                    encoded[2 * i] = Encoding.UTF8.GetBytes(parameters[i].Key);
                    encoded[(2 * i) + 1] = Encoding.UTF8.GetBytes(parameters[i].Value);
                }

                for (var i = 0; i < encoded.Length; i++)
                {
                    handles[i] = GCHandle.Alloc(encoded[i], GCHandleType.Pinned);
                    pointers[i] = handles[i].AddrOfPinnedObject();
                    lengths[i] = (nuint)encoded[i].Length;
                }

                var names = new nint[parameters.Count];
                var values = new nint[parameters.Count];
                var nameLengths = new nuint[parameters.Count];
                var valueLengths = new nuint[parameters.Count];
                for (var i = 0; i < parameters.Count; i++)
                {
                    (names[i], nameLengths[i]) = (pointers[2 * i], lengths[2 * i]);
                    (values[i], valueLengths[i]) = (pointers[(2 * i) + 1], lengths[(2 * i) + 1]);
                }

                fixed (byte* q = sqlBytes)
                fixed (byte* f = formatBytes)
                fixed (nint* n = names)
                fixed (nint* v = values)
                fixed (nuint* nl = nameLengths)
                fixed (nuint* vl = valueLengths)
                {
                    var handle = ChdbNative.chdb_query_with_params_n(
                        Engine.Connection, q, (nuint)sqlBytes.Length, f, (nuint)formatBytes.Length,
                        parameters.Count == 0 ? null : (byte**)n, parameters.Count == 0 ? null : nl,
                        parameters.Count == 0 ? null : (byte**)v, parameters.Count == 0 ? null : vl,
                        (nuint)parameters.Count);
                    return ChdbResult.Take(handle);
                }
            }
            finally
            {
                foreach (var handle in handles)
                {
                    if (handle.IsAllocated)
                    {
                        handle.Free();
                    }
                }
            }
        }

        /// <summary>Runs a statement whose output is not wanted (SET, USE, DDL).</summary>
        public void Execute(string sql)
        {
            using var result = Query(sql, "TabSeparated");
        }

        public ChdbInsertStream BeginInsert(string statement, string format) =>
            ChdbInsertStream.Begin(Engine.Connection, Encoding.UTF8.GetBytes(statement), Encoding.UTF8.GetBytes(format));

        public void Dispose()
        {
            var engine = Interlocked.Exchange(ref _engine, null);
            engine?._gate.Release();
        }
    }
}
