namespace MskClickHouse.Core.Logging;

/// <summary>Structured log level, as Powertools names them.</summary>
public enum LogLevel
{
    Trace = 0,
    Debug = 1,
    Information = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
}
