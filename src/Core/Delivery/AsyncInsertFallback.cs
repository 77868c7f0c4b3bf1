using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// An asynchronous insert answered with an error that is not retried is sent once more, synchronously, under the same
/// token, and that answer decides. The server parses each insert of a flush apart, but an error of the flush itself (a
/// CHECK constraint, a DEFAULT that throws, a memory limit, the wait timing out) is answered to every insert of the flush,
/// whoever sent the row; and the row numbers of an asynchronous answer are not what bad-row isolation relies on. The
/// synchronous insert judges this body alone: it lands, or it fails as in INSERT_MODE=sync. The same token keeps it
/// exact when the asynchronous insert did land (a timed-out wait): the server deduplicates a token across both modes
/// (docs/exactly-once.md, "Insert modes").
/// </summary>
public static class AsyncInsertFallback
{
    /// <summary>What a synchronous re-send can change: errors about the data or the flush, not about the request.</summary>
    public static bool FallsBack(ClickHouseException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Kind is ClickHouseErrorKind.Data or ClickHouseErrorKind.ViewRejected or ClickHouseErrorKind.QueryLimit or ClickHouseErrorKind.Permanent;
    }

    /// <param name="settings">The insert's settings; only asynchronous ones fall back.</param>
    /// <param name="send">Sends the insert with the given settings (retrying transient failures).</param>
    public static async Task<T> RunAsync<T>(IReadOnlyDictionary<string, string> settings, Func<IReadOnlyDictionary<string, string>, Task<T>> send)
    {
        ArgumentNullException.ThrowIfNull(send);
        if (!InsertSettings.IsAsynchronous(settings))
        {
            return await send(settings);
        }

        try
        {
            return await send(settings);
        }
        catch (ClickHouseException e) when (FallsBack(e))
        {
            return await send(InsertSettings.Synchronous(settings));
        }
    }
}
