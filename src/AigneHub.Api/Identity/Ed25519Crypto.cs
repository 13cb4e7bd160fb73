using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace AigneHub.Api.Identity;

/// <summary>Ed25519 (RFC 8032, pure) and SHA3-256, and the encodings callers may use for keys and signatures.</summary>
public static class Ed25519Crypto
{
    public const int PublicKeyLength = 32;
    public const int SignatureLength = 64;

    public static byte[] Sha3_256(ReadOnlySpan<byte> data)
    {
        if (SHA3_256.IsSupported)
        {
            return SHA3_256.HashData(data);
        }
        var digest = new Sha3Digest(256);
        digest.BlockUpdate(data);
        var hash = new byte[32];
        digest.DoFinal(hash, 0);
        return hash;
    }

    public static bool Verify(byte[] publicKey, ReadOnlySpan<byte> message, byte[] signature)
    {
        if (publicKey.Length != PublicKeyLength || signature.Length != SignatureLength)
        {
            return false;
        }
        try
        {
            var verifier = new Ed25519Signer();
            verifier.Init(false, new Ed25519PublicKeyParameters(publicKey));
            verifier.BlockUpdate(message);
            return verifier.VerifySignature(signature);
        }
        catch (ArgumentException)
        {
            return false; // not a point on the curve
        }
    }

    public static byte[] Sign(byte[] privateKeySeed, ReadOnlySpan<byte> message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, new Ed25519PrivateKeyParameters(privateKeySeed));
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public static byte[] PublicKeyOf(byte[] privateKeySeed) =>
        new Ed25519PrivateKeyParameters(privateKeySeed).GeneratePublicKey().GetEncoded();

    /// <summary>Hex (any case), base64 or base64url (padding optional); null when it is none of these or the
    /// length is not <paramref name="length"/>.</summary>
    public static byte[]? Decode(string? text, int length)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 4 * length)
        {
            return null;
        }
        text = text.Trim();
        byte[]? bytes = null;
        if (text.Length == 2 * length && text.All(Uri.IsHexDigit))
        {
            bytes = Convert.FromHexString(text);
        }
        else
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var buffer = new byte[length + 3];
            if (Convert.TryFromBase64String(b64, buffer, out var written))
            {
                bytes = buffer[..written];
            }
        }
        return bytes?.Length == length ? bytes : null;
    }
}

/// <summary>
/// <c>did:key</c> identifiers of Ed25519 keys: <c>did:key:z</c> + base58btc(0xed 0x01 ‖ 32-byte public key).
/// </summary>
public static class DidKey
{
    private const string Prefix = "did:key:z";
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static byte[]? PublicKeyOf(string? did)
    {
        if (did is null || !did.StartsWith(Prefix, StringComparison.Ordinal) || did.Length > 100)
        {
            return null;
        }
        var bytes = Base58Decode(did[Prefix.Length..]);
        return bytes is { Length: 34 } && bytes[0] == 0xed && bytes[1] == 0x01 ? bytes[2..] : null;
    }

    public static string FromPublicKey(byte[] publicKey) => Prefix + Base58Encode([0xed, 0x01, .. publicKey]);

    private static byte[]? Base58Decode(string text)
    {
        var value = System.Numerics.BigInteger.Zero;
        foreach (var c in text)
        {
            var digit = Alphabet.IndexOf(c);
            if (digit < 0)
            {
                return null;
            }
            value = value * 58 + digit;
        }
        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var zeros = text.TakeWhile(c => c == '1').Count();
        return [.. new byte[zeros], .. body];
    }

    private static string Base58Encode(byte[] data)
    {
        var value = new System.Numerics.BigInteger(data, isUnsigned: true, isBigEndian: true);
        var chars = new List<char>();
        while (value > 0)
        {
            value = System.Numerics.BigInteger.DivRem(value, 58, out var remainder);
            chars.Add(Alphabet[(int)remainder]);
        }
        chars.AddRange(data.TakeWhile(b => b == 0).Select(_ => '1'));
        chars.Reverse();
        return new string([.. chars]);
    }
}
