import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local HTTP server that plays the EC2 instance metadata service (IMDSv2) and the ECS
/// container credentials endpoint, so the credential chain is tested over real HTTP.
package final class MetadataServer: Sendable {
    let channel: any Channel
    package var port: Int { channel.localAddress!.port! }
    package var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Requests answered so far, by method and path (`PUT /latest/api/token`).
    package var requests: [String] { log.withLockedValue { $0 } }
    private let log = NIOLockedValueBox<[String]>([])

    package static let imdsToken = "imds-token-1"
    /// What `/latest/meta-data/instance-id` answers (IMDSv2 token required).
    package let instanceID: String
    package static let ecsAuthorization = "ecs-secret"

    /// - Parameter roleKeys: the key pair the instance role hands out (moto_server's IAM user's,
    ///   for a process that must also be let in); by default made-up keys with a session token.
    package init(instanceID: String = "i-0123456789abcdef0", roleKeys: (id: String, secret: String)? = nil) async throws {
        self.instanceID = instanceID
        let roleCredentials = roleKeys.map { #"{"AccessKeyId":"\#($0.id)","SecretAccessKey":"\#($0.secret)","Expiration":"2099-01-01T00:00:00Z"}"# }
            ?? MetadataServer.credentials("IMDS")
        let log = self.log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log, instanceID: instanceID, roleCredentials: roleCredentials))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    package func close() async throws { try await channel.close() }

    package static func credentials(_ key: String) -> String {
        #"{"AccessKeyId":"\#(key)","SecretAccessKey":"secret-\#(key)","Token":"token-\#(key)","Expiration":"2099-01-01T00:00:00Z"}"#
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private var head: HTTPRequestHead?
        private let log: NIOLockedValueBox<[String]>
        private let instanceID: String
        private let roleCredentials: String

        init(log: NIOLockedValueBox<[String]>, instanceID: String, roleCredentials: String) {
            self.log = log
            self.instanceID = instanceID
            self.roleCredentials = roleCredentials
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                log.withLockedValue { $0.append("\(head.method) \(head.uri)") }
                let (status, body) = answer(head)
                let response = HTTPResponseHead(version: head.version, status: .init(statusCode: status),
                                                headers: ["Content-Length": "\(body.utf8.count)"])
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        private func answer(_ head: HTTPRequestHead) -> (Int, String) {
            let token = head.headers.first(name: "X-aws-ec2-metadata-token")
            switch (head.method, head.uri) {
            case (.PUT, "/latest/api/token"):
                return head.headers.first(name: "X-aws-ec2-metadata-token-ttl-seconds") == nil ? (400, "") : (200, MetadataServer.imdsToken)
            case (.GET, "/latest/meta-data/iam/security-credentials/"):
                return token == MetadataServer.imdsToken ? (200, "cacheload-role") : (401, "")
            case (.GET, "/latest/meta-data/iam/security-credentials/cacheload-role"):
                return token == MetadataServer.imdsToken ? (200, roleCredentials) : (401, "")
            case (.GET, "/latest/meta-data/instance-id"):
                return token == MetadataServer.imdsToken ? (200, instanceID) : (401, "")
            case (.GET, "/ecs/credentials"):
                return head.headers.first(name: "Authorization") == MetadataServer.ecsAuthorization ? (200, MetadataServer.credentials("ECS")) : (403, "")
            default:
                return (404, "")
            }
        }
    }
}
