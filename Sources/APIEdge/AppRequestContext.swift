import Hummingbird
import NIOCore
import Synchronization

/// The request context: Hummingbird's core storage, the peer address (for per-IP limits) and who
/// the caller turned out to be (set by authentication, read by the access log, which runs outside it).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    let identity = CallerIdentity()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The user and org a request's token named, once authentication has read it.
final class CallerIdentity: Sendable {
    struct Names: Sendable {
        var userId: String?
        var orgId: String?
    }
    private let names = Mutex(Names())

    var current: Names { names.withLock { $0 } }

    func record(userId: String?, orgId: String?) {
        names.withLock { $0 = Names(userId: userId, orgId: orgId) }
    }
}
