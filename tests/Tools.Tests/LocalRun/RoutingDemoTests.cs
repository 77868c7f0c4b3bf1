using MskClickHouse.Core.Configuration;
using MskClickHouse.LocalRun;

namespace MskClickHouse.Tools.Tests.LocalRun;

/// <summary>The routing example's pure parts: its ROUTES is valid, and its expected counts are what its records hold.</summary>
public sealed class RoutingDemoTests
{
    [Fact]
    public void Routes_AreAValidRoutesValue()
    {
        var options = SinkOptionsParser.Parse(new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://ch.example.com", ["SINK_ID"] = "s", ["ROUTES"] = RoutingDemo.Routes });

        Assert.Equal(6, options.Routes.Count);
    }

    [Fact]
    public void Expected_CountsEachTypeRegionAndKeyOfTheRecords()
    {
        var (tables, unrouted) = RoutingDemo.Expected(RoutingDemo.Records());

        // 100 events cycling click, view, buy, click, signup; 40 audit records: even offsets eu, every third key tenant-.
        Assert.Equal(40, tables["events_click"]);
        Assert.Equal(20, tables["events_view"]);
        Assert.Equal(20, tables["events_buy"]);
        Assert.Equal(100, tables["all_events"]);
        Assert.Equal(20, tables["audit_eu"]);
        Assert.Equal(14, tables["audit_tenants"]);
        Assert.Equal(13, unrouted); // odd offsets (us) whose key is not tenant-: 20 odd, 7 of them tenant- (signups go to all_events)
    }
}
