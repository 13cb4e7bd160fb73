using System.Security.Cryptography;
using System.Text;

namespace AigneHub.Api.Identity;

/// <summary>How access-key secrets are stored and shown: SHA-256 for lookup, a short prefix for display.</summary>
public static class AccessKeySecrets
{
    /// <summary><c>ahk_</c> plus 8 hex characters: enough to tell keys apart in a list, far too little to use one.</summary>
    public const int PrefixLength = 12;

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The public part shown in lists; never enough to use the key.</summary>
    public static string Prefix(string key) => key.Length <= PrefixLength ? key[..Math.Min(4, key.Length)] : key[..PrefixLength];
}
