using System.Buffers;

namespace MskClickHouse.Core.Delivery;

/// <summary>Inserts a partition attempt's dead letters into the dead-letter table under a <c>dlq:</c> token.</summary>
internal sealed class DeadLetterWriter(PartitionAttempt attempt)
{
    public async Task WriteAsync(List<DeadLetter> letters, string token)
    {
        if (letters.Count == 0)
        {
            return;
        }

        letters.Sort((a, b) => a.RecordIndex.CompareTo(b.RecordIndex));
        var body = new ArrayBufferWriter<byte>(letters.Count * 512);
        var options = attempt.Options;
        DeadLetters.Encode(body, attempt.Batch, attempt.Records, letters, options.SinkId, attempt.Source.Name, attempt.Encoded.Table, attempt.Time.GetUtcNow());
        var settings = InsertSettings.For(options.ExtraInsertSettings, token, body.WrittenCount);
        var dlqSql = $"INSERT INTO {options.DeadLetterTable.Sql} FORMAT JSONEachRow";
        await attempt.RetryAsync(ct => attempt.Gateway.InsertAsync(dlqSql, [body.WrittenMemory], settings, ct));
        attempt.Outcome.DeadLettered += letters.Count;
    }
}
