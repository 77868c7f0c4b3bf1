namespace MskClickHouse.LocalRun;

/// <summary>An environment problem or bad input file; the message is for the user.</summary>
public sealed class LocalRunException(string message) : Exception(message);
