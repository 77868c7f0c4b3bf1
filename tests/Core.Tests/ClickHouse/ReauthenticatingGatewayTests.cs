using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>A password rotated after start-up, against the embedded engine's HTTP front (516 AUTHENTICATION_FAILED).</summary>
public class ReauthenticatingGatewayTests(ClickHouseFixture fixture)
{
    private const string Marker = "Mk7-rotated-away-Zq9";

    private SinkOptions Options() => new()
    {
        ClickHouseUrl = fixture.Server.BaseUri,
        User = fixture.Server.User,
        DeadLetterTable = new TableName("default", "dlq"),
        StateTable = new TableName("default", "state"),
        SinkId = "auth-test",
    };

    private ReauthenticatingGateway Gateway(string startPassword, Func<string> secret, RecordingLog log) =>
        new(startPassword, p => new DriverClickHouseGateway(Options().Connection with { Password = p }), _ => Task.FromResult(secret()), log, TimeProvider.System);

    [Fact]
    public async Task Query_PasswordRotatedAfterStartUp_FetchesTheSecretOnceAndSucceeds()
    {
        var log = new RecordingLog();
        using var gateway = Gateway(Marker, () => fixture.Server.Password, log);

        var answer = await gateway.QueryAsync("SELECT 42 FORMAT TSV", TestContext.Current.CancellationToken);

        Assert.Equal("42\n", System.Text.Encoding.UTF8.GetString(answer));
        Assert.Equal(1, gateway.Refetches);
        Assert.Contains(log.Lines, l => l.Message.Contains("secret was rotated", StringComparison.Ordinal) && l.Fields.ErrorCode == 516);

        // The new client is kept: the next call does not fetch again.
        await gateway.QueryAsync("SELECT 1 FORMAT TSV", TestContext.Current.CancellationToken);
        Assert.Equal(1, gateway.Refetches);
    }

    [Fact]
    public async Task Query_SecretStillWrong_FailsAsAuthOnceFetchedAndDoesNotFetchOnEveryCall()
    {
        var log = new RecordingLog();
        using var gateway = Gateway(Marker, () => Marker, log);

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => gateway.QueryAsync("SELECT 1", TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ClickHouseException>(() => gateway.QueryAsync("SELECT 1", TestContext.Current.CancellationToken));

        Assert.Equal(ClickHouseErrorKind.Auth, e.Kind);
        Assert.Equal(516, e.ServerCode);
        Assert.Equal(1, gateway.Refetches);
        Assert.DoesNotContain(Marker, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains(Marker, StringComparison.Ordinal));
    }
}
