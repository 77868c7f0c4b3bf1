using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>The one user this server knows, checked the ways ClickHouse's HTTP interface accepts credentials.</summary>
internal sealed class Credentials(string user, string password)
{
    /// <summary>Returns the user name the request claims and whether its password matches.</summary>
    public (string User, bool Valid) Check(HttpRequest request, RequestParameters parameters)
    {
        var (claimedUser, claimedPassword) = Claimed(request, parameters);
        var valid = claimedUser == user && CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(claimedPassword), Encoding.UTF8.GetBytes(password));
        return (claimedUser, valid);
    }

    private static (string User, string Password) Claimed(HttpRequest request, RequestParameters parameters)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
            }
            catch (FormatException)
            {
                return (string.Empty, string.Empty);
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? (decoded, string.Empty) : (decoded[..colon], decoded[(colon + 1)..]);
        }

        if (request.Headers.TryGetValue("X-ClickHouse-User", out var headerUser))
        {
            return (headerUser.ToString(), request.Headers["X-ClickHouse-Key"].ToString());
        }

        return (parameters.User ?? "default", parameters.Password ?? string.Empty);
    }
}
