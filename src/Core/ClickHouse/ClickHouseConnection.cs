namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// Where and how <see cref="DriverClickHouseGateway"/> connects: the part of the sink's options the gateway reads
/// (built by <c>SinkOptions.Connection</c>), so that this namespace does not depend on Configuration.
/// </summary>
public sealed record ClickHouseConnection(
    Uri Url,
    string User,
    string? Password,
    string Database,
    string? CaFile,
    TimeSpan RequestTimeout,
    RequestCompression Compression)
{
    /// <summary>A record prints its members; this one never prints the password nor the URL's user info or query.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        var url = Url.IsAbsoluteUri ? Url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : "(relative URL)";
        builder.Append($"Url = {url}, User = {User}, Database = {Database}, Password = {(Password is null ? "unset" : "***")}");
        return true;
    }
}
