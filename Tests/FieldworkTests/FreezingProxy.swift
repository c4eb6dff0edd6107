import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy in front of Postgres that can freeze: from `freeze()` on, the connections open at
/// that moment never carry another byte either way yet stay open (a request on them never
/// answers, as with a dead peer or a request lost in a client), and new ones wait. `thaw()` lets
/// new connections through; the frozen ones stay frozen for good.
final class FreezingProxy: Sendable {
    let port: Int
    /// The database URL through the proxy.
    let url: String
    private let child: Child

    static let source = """
        import asyncio, signal, sys
        host, target = sys.argv[1], int(sys.argv[2])
        state = {'frozen': False, 'gen': 0}

        async def pump(reader, writer, gen):
            try:
                while True:
                    data = await reader.read(65536)
                    while state['frozen'] or state['gen'] != gen:
                        await asyncio.sleep(0.05)
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
            except Exception:
                pass
            if state['gen'] == gen:
                writer.close()

        async def handle(client_reader, client_writer):
            gen = state['gen']
            while state['frozen']:
                await asyncio.sleep(0.05)
            gen = state['gen']
            try:
                server_reader, server_writer = await asyncio.open_connection(host, target)
            except Exception:
                client_writer.close()
                return
            await asyncio.gather(pump(client_reader, server_writer, gen), pump(server_reader, client_writer, gen))

        def freeze():
            state['frozen'] = True
            state['gen'] += 1

        def thaw():
            state['frozen'] = False

        async def main():
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGUSR1, freeze)
            loop.add_signal_handler(signal.SIGUSR2, thaw)
            server = await asyncio.start_server(handle, '127.0.0.1', 0)
            print('ready', server.sockets[0].getsockname()[1], flush=True)
            async with server:
                await server.serve_forever()

        asyncio.run(main())
        """

    /// Starts the proxy on a free port in front of the database of `databaseURL`.
    init(databaseURL: String) async throws {
        guard var components = URLComponents(string: databaseURL), let host = components.host else {
            throw TestFailure("bad URL \(databaseURL)")
        }
        let target = components.port ?? 5432
        // The proxy binds a free port itself and names it: no guessed port to collide.
        let child = try Child(["python3", "-c", Self.source, host, String(target)])
        try await waitUntil("the proxy listening", timeout: .seconds(10)) { child.output.contains("ready ") }
        guard let line = child.output.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }), let port = Int(line.dropFirst(6)) else {
            child.signal(SIGKILL)
            throw TestFailure("the proxy did not name its port: \(child.output)")
        }
        components.host = "127.0.0.1"
        components.port = port
        self.child = child
        self.port = port
        self.url = components.string!
    }

    func freeze() { child.signal(SIGUSR1) }
    func thaw() { child.signal(SIGUSR2) }

    func stop() {
        child.signal(SIGKILL)
        _ = waitpid(child.pid, nil, 0)
    }
}
