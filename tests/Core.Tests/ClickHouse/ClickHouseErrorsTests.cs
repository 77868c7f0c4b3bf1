using MskClickHouse.Core.ClickHouse;





namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>Row numbers and classes from the messages the engine answered (texts copied from chDB 26.7's answers).</summary>
public sealed class ClickHouseErrorsTests
{
    [Theory]
    [InlineData("Code: 376. DB::Exception: Cannot parse UUID from String: invalid format, expected 32 hexadecimal digits: (while reading the value of key v): (at row 2)\n: While executing JSONEachRowRowInputFormat. (CANNOT_PARSE_UUID)", 2)]
    [InlineData("Code: 469. DB::Exception: Constraint `positive` for table default.c1 (fdd68066-6462-46e2-b9b8-e720ea88ee96) is violated at row 2. Expression: (v > 0). Column values: v = -1. (VIOLATED_CONSTRAINT)", 2)]
    [InlineData("Code: 376. DB::Exception: Cannot parse UUID from String: (while reading the value of key v): (Already have 2 errors out of 2 rows, which is 1 of all rows): (at row 2)\n", 2)]
    [InlineData("Code: 27. DB::Exception: Cannot parse input: expected '{' before: '!sink-probe-sentinel': (at row 10001)\n", 10001)]
    [InlineData("Code: 395. DB::Exception: seven: while executing 'FUNCTION throwIf(equals(v, 7_UInt8) :: 5, 'seven'_String :: 3)'. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO)", null)]
    [InlineData("Code: 164. DB::Exception: default: Cannot execute query in readonly mode. (READONLY)", null)]
    public void RowNumberOf_EveryShapeTheEngineUses(string message, int? row) => Assert.Equal(row, ClickHouseErrors.RowNumberOf(message));

    [Fact]
    public void Classify_TooManyPartitionsForOneInsert_IsNotRetriedButTooManyPartsIs()
    {
        Assert.Equal(ClickHouseErrorKind.Permanent, ClickHouseErrors.Classify(252, "Code: 252. DB::Exception: Too many partitions for single INSERT block (more than 100). (TOO_MANY_PARTS)"));
        Assert.Equal(ClickHouseErrorKind.Transient, ClickHouseErrors.Classify(252, "Code: 252. DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)"));
    }

    [Fact]
    public void Classify_MemoryLimit_OfTheQueryIsALimit_OfTheServerOrUserIsTransient()
    {
        Assert.Equal(ClickHouseErrorKind.QueryLimit, ClickHouseErrors.Classify(241, "Code: 241. DB::Exception: Query memory limit exceeded: would use 100.10 KiB (attempt to allocate chunk of 4.00 KiB), maximum: 97.66 KiB. (MEMORY_LIMIT_EXCEEDED)"));
        Assert.Equal(ClickHouseErrorKind.Transient, ClickHouseErrors.Classify(241, "Code: 241. DB::Exception: Memory limit (total) exceeded: would use 3.50 GiB, maximum: 3.46 GiB. (MEMORY_LIMIT_EXCEEDED)"));
        Assert.Equal(ClickHouseErrorKind.Transient, ClickHouseErrors.Classify(241, "Code: 241. DB::Exception: Memory limit (for user) exceeded: would use 9.31 GiB. (MEMORY_LIMIT_EXCEEDED)"));
    }

    [Fact]
    public void Classify_ErrorWhilePushingToAView_IsTheViewsNeverARows_UnlessTransient()
    {
        const string View = "Code: 395. DB::Exception: bad value: while executing 'FUNCTION throwIf(equals(__table1.v, 13_UInt8) :: 1, 'bad value'_String :: 3) -> throwIf(equals(__table1.v, 13_UInt8), 'bad value'_String) UInt8 : 0': while pushing to view e1.mv. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO) (version 26.7.2.1)";
        Assert.Equal(ClickHouseErrorKind.ViewRejected, ClickHouseErrors.Classify(395, View));
        Assert.Equal("e1.mv", ClickHouseErrors.ViewOf(View));
        Assert.Equal(ClickHouseErrorKind.ViewRejected, ClickHouseErrors.Classify(12345, "Code: 12345. DB::Exception: new: (at row 3): while pushing to view db.v"));
        Assert.Equal(ClickHouseErrorKind.Transient, ClickHouseErrors.Classify(202, "Code: 202. DB::Exception: Too many simultaneous queries: while pushing to view db.v"));
        Assert.Null(ClickHouseErrors.ViewOf("Code: 395. DB::Exception: seven: while executing 'FUNCTION throwIf(equals(v, 7_UInt8) :: 5, 'seven'_String :: 3)'. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO)"));
    }

    [Theory]
    [InlineData(164, ClickHouseErrorKind.Permission)]
    [InlineData(497, ClickHouseErrorKind.Permission)]
    [InlineData(516, ClickHouseErrorKind.Auth)]
    [InlineData(60, ClickHouseErrorKind.MissingTable)]
    [InlineData(202, ClickHouseErrorKind.Transient)]
    [InlineData(378, ClickHouseErrorKind.Permanent)]
    public void Classify_Codes(int code, ClickHouseErrorKind kind) => Assert.Equal(kind, ClickHouseErrors.Classify(code, "Code: " + code));

    [Fact]
    public void Classify_UnknownCodeNamingARow_IsData_OtherwiseNotRetried()
    {
        Assert.False(ClickHouseErrors.IsKnown(12345));
        Assert.Equal(ClickHouseErrorKind.Data, ClickHouseErrors.Classify(12345, "Code: 12345. DB::Exception: new kind of value error: (at row 7)"));
        Assert.Equal(ClickHouseErrorKind.Permanent, ClickHouseErrors.Classify(12345, "Code: 12345. DB::Exception: something new"));
        Assert.False(new ClickHouseException("x", ClickHouseErrors.Classify(12345, "x"), 12345).IsRetryable);
    }
}
