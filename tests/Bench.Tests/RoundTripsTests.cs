using MskClickHouse.Bench.EndToEnd;

namespace MskClickHouse.Bench.Tests;

/// <summary>Sequential round trips (waves) and the insert's table, from what the recording proxy sees.</summary>
public sealed class RoundTripsTests
{
    [Fact]
    public void Waves_RequestsOneAfterTheOther_AreOneWaveEach()
    {
        Assert.Equal(3, RoundTrips.Waves([(0, 10), (12, 20), (25, 30)]));
    }

    [Fact]
    public void Waves_OverlappingRequests_AreOneWave()
    {
        // Four inserts at once, a fifth starting when the first ends while the others are still open: one wave.
        Assert.Equal(1, RoundTrips.Waves([(0, 10), (1, 30), (2, 25), (3, 28), (10.5, 40)]));
    }

    [Fact]
    public void Waves_StateWriteReadBackInsertsReadBack_CountTheStepsThatCouldNotOverlap()
    {
        // Order of the list does not matter; a request starting exactly when the previous one ended did not overlap it.
        Assert.Equal(4, RoundTrips.Waves([(50, 60), (0, 10), (10, 20), (21, 40), (22, 45), (23, 49)]));
    }

    [Fact]
    public void Waves_NoRequests_AreNone() => Assert.Equal(0, RoundTrips.Waves([]));

    [Theory]
    [InlineData("POST /?query=INSERT INTO bench_db.events FORMAT JSONEachRow&insert_deduplication_token=x HTTP/1.1", "events")]
    [InlineData("POST /?database=d HTTP/1.1\r\nHost: x\r\n\r\nINSERT INTO `bench_db`.`kafka_sink_state` (sink_id, name) SELECT 1", "kafka_sink_state")]
    [InlineData("POST / HTTP/1.1\r\n\r\ninsert into events_engine FROM INFILE 'f' FORMAT JSONEachRow", "events_engine")]
    public void InsertTable_NamesTheTableAnInsertWrites(string head, string table) => Assert.Equal(table, RoundTrips.InsertTable(head));

    [Theory]
    [InlineData("POST / HTTP/1.1\r\n\r\nSELECT * FROM db.kafka_sink_state FINAL WHERE sink_id = 'x'")]
    [InlineData("GET /ping HTTP/1.1")]
    public void InsertTable_OtherRequests_AreNotInserts(string head) => Assert.Null(RoundTrips.InsertTable(head));

    [Fact]
    public void Of_CountsRequestsWavesAndInsertsPerTable()
    {
        HttpExchange Exchange(double start, double end, string text)
        {
            var e = new HttpExchange(start) { EndMs = end };
            e.Keep(System.Text.Encoding.ASCII.GetBytes(text));
            return e;
        }

        var anatomy = RoundTrips.Of(
        [
            Exchange(0, 5, "POST / HTTP/1.1\r\n\r\nINSERT INTO db.kafka_sink_state SELECT 1"),
            Exchange(6, 20, "POST /?query=INSERT%20INTO%20db.events%20FORMAT%20JSONEachRow HTTP/1.1"),
            Exchange(7, 22, "POST /?query=INSERT+INTO+db.events+FORMAT+JSONEachRow HTTP/1.1"),
            Exchange(23, 25, "POST / HTTP/1.1\r\n\r\nSELECT 1"),
        ]);

        Assert.Equal(4, anatomy.Requests);
        Assert.Equal(3, anatomy.Waves);
        Assert.Equal(2, anatomy.InsertsByTable["events"]);
        Assert.Equal(1, anatomy.InsertsByTable["kafka_sink_state"]);
        Assert.Equal(2, anatomy.InsertsByTable.Count);
    }
}
