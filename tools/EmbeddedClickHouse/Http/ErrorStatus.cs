using System.Net;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>ClickHouse's mapping from exception code to HTTP status (src/Server/HTTPHandler.cpp).</summary>
internal static class ErrorStatus
{
    private static readonly HashSet<int> Forbidden = [192, 193, 194, 195, 196, 497, 516];

    private static readonly HashSet<int> BadRequest =
        [6, 25, 26, 27, 28, 32, 33, 36, 38, 41, 43, 44, 47, 48, 53, 62, 69, 70, 72, 117, 130, 131, 132, 157, 241, 394, 395, 469];

    private static readonly HashSet<int> NotFound = [60, 81, 115, 170, 175];

    public static HttpStatusCode For(int code) => code switch
    {
        _ when Forbidden.Contains(code) => HttpStatusCode.Forbidden,
        _ when BadRequest.Contains(code) => HttpStatusCode.BadRequest,
        _ when NotFound.Contains(code) => HttpStatusCode.NotFound,
        159 => HttpStatusCode.RequestTimeout,
        _ => HttpStatusCode.InternalServerError,
    };
}
