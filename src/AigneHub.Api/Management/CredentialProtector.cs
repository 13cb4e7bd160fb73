using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Providers;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Management;

/// <summary>
/// Configuration <c>AigneHub:Secrets</c>: the master key that encrypts provider credentials at rest.
/// </summary>
/// <remarks>
/// One design, the same in every environment: the key comes only from configuration (the AppHost's secret
/// parameter <c>master-key</c>, passed as <c>AigneHub__Secrets__MasterKey</c>; tests set a fixed one), and the Api
/// refuses to start without a valid one. There is deliberately no fallback that generates a key and stores it in
/// the database: a key kept next to the ciphertext it protects protects nothing, and a development-only code path
/// would be one production never exercises. In development the AppHost generates the key once into its data folder
/// (as it does for the owner key), so a first run still needs no setup. Losing the key makes the stored
/// credentials unreadable (they must be entered again); it never exposes them.
/// </remarks>
public sealed class SecretsOptions
{
    public const string Section = "AigneHub:Secrets";
    public const string MasterKeyPath = Section + ":MasterKey";
    public const int KeyBytes = 32;

    /// <summary>32 random bytes, as base64 (44 characters) or as 64 hex digits.</summary>
    public string? MasterKey { get; set; }

    /// <summary>The decoded key, or null when the text is neither 32 bytes of base64 nor 64 hex digits.</summary>
    internal static byte[]? Decode(string? text)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (text.Length == KeyBytes * 2 && text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(text);
        }
        var buffer = new byte[KeyBytes + 3];
        return Convert.TryFromBase64String(text, buffer, out var written) && written == KeyBytes ? buffer[..KeyBytes] : null;
    }
}

internal sealed class ValidateSecretsOptions : IValidateOptions<SecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.MasterKey))
        {
            return ValidateOptionsResult.Fail(
                $"{SecretsOptions.MasterKeyPath} is required: the key that encrypts provider credentials at rest " +
                $"({SecretsOptions.KeyBytes} random bytes as base64 or 64 hex digits; the AppHost passes its 'master-key' parameter, " +
                "environment variable AigneHub__Secrets__MasterKey).");
        }
        return SecretsOptions.Decode(options.MasterKey) is null
            ? ValidateOptionsResult.Fail(
                $"{SecretsOptions.MasterKeyPath} must be exactly {SecretsOptions.KeyBytes} bytes, as base64 (44 characters) or 64 hex digits.")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// Encrypts provider credentials with AES-256-GCM (authenticated: a flipped bit or a row copied onto another
/// credential fails to decrypt rather than yielding garbage). Format, version 1:
/// <c>[0x01][12-byte random nonce][ciphertext][16-byte tag]</c>, with the credential id as associated data so a
/// ciphertext only opens for the row it was made for. The version byte leaves room for key rotation.
/// </summary>
public sealed class CredentialProtector
{
    private const byte Version1 = 1;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int HeaderBytes = 1 + NonceBytes;

    private readonly byte[] _key;

    public CredentialProtector(IOptions<SecretsOptions> options)
    {
        _key = SecretsOptions.Decode(options.Value.MasterKey)
            ?? throw new InvalidOperationException($"{SecretsOptions.MasterKeyPath} is missing or invalid.");
    }

    public byte[] Protect(Guid credentialId, string secret)
    {
        var plaintext = Encoding.UTF8.GetBytes(secret);
        var output = new byte[HeaderBytes + plaintext.Length + TagBytes];
        output[0] = Version1;
        var nonce = output.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plaintext, output.AsSpan(HeaderBytes, plaintext.Length),
            output.AsSpan(HeaderBytes + plaintext.Length, TagBytes), AssociatedData(credentialId));
        CryptographicOperations.ZeroMemory(plaintext);
        return output;
    }

    /// <exception cref="CryptographicException">Wrong key, wrong row, tampered or unknown format.</exception>
    public string Unprotect(Guid credentialId, byte[] protectedValue)
    {
        if (protectedValue.Length < HeaderBytes + TagBytes || protectedValue[0] != Version1)
        {
            throw new CryptographicException("Unknown credential ciphertext format.");
        }
        var length = protectedValue.Length - HeaderBytes - TagBytes;
        var plaintext = new byte[length];
        using var aes = new AesGcm(_key, TagBytes);
        aes.Decrypt(protectedValue.AsSpan(1, NonceBytes), protectedValue.AsSpan(HeaderBytes, length),
            protectedValue.AsSpan(HeaderBytes + length, TagBytes), plaintext, AssociatedData(credentialId));
        var secret = Encoding.UTF8.GetString(plaintext);
        CryptographicOperations.ZeroMemory(plaintext);
        return secret;
    }

    /// <summary>What lists show: the first and last four characters, or nothing of a short value.</summary>
    public static string Mask(string secret) =>
        secret.Length >= 12 ? string.Create(CultureInfo.InvariantCulture, $"{secret[..4]}…{secret[^4..]}") : "********";

    private static byte[] AssociatedData(Guid credentialId)
    {
        var data = new byte[16];
        credentialId.TryWriteBytes(data, bigEndian: true, out _);
        return data;
    }
}
