namespace MskClickHouse.Core.ClickHouse;

/// <summary>Compression of insert bodies sent to ClickHouse.</summary>
public enum RequestCompression
{
    None,
    Gzip,

    /// <summary>zstd level 1: about gzip's ratio on JSON at a fraction of its CPU (Content-Encoding: zstd).</summary>
    Zstd,
}
