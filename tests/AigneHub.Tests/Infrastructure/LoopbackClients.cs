using System.Net;
using System.Net.Sockets;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// HTTP clients that connect from an address of their own inside 127.0.0.0/8 (all of it is loopback on Linux), so a
/// test of per-address limits sees a real, distinct client address without any forwarded header — and shares no
/// counter with the rest of the suite, which talks from 127.0.0.1.
/// </summary>
public static class LoopbackClients
{
    /// <summary>A fresh address in 127.0.0.0/8 other than 127.0.0.1.</summary>
    public static IPAddress NewAddress() =>
        new([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(1, 255)]);

    /// <summary>A client for <paramref name="baseAddress"/> (a loopback URL) whose connections come from <paramref name="from"/>.</summary>
    public static HttpClient From(IPAddress from, Uri baseAddress, string? bearer = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        }
        return client;
    }

    public static HttpClient From(IPAddress from, ApiFactory api, string? bearer = null)
    {
        using var probe = api.CreateClient(bearer: null);
        return From(from, probe.BaseAddress!, bearer);
    }
}
