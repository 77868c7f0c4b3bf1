using MskClickHouse.TestSupport;

[assembly: AssemblyFixture(typeof(ClickHouseFixture))]
