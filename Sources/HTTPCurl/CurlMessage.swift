/// An HTTP request for ``CurlClient``.
public struct CurlRequest: Sendable {
    /// The request method.
    public enum Method: String, Sendable {
        case GET, HEAD, POST, PUT, DELETE
    }

    public var method: Method
    /// Absolute `http://` or `https://` URL.
    public var url: String
    /// Header fields in order; repeated names are sent repeatedly.
    public var headers: [(name: String, value: String)]
    /// Request body (sent with `Content-Length`); `nil` sends none.
    public var body: [UInt8]?
    /// Limit for the whole exchange, connect included.
    public var timeout: Duration
    /// Limit for establishing the connection.
    public var connectTimeout: Duration
    /// When set, libcurl signs the request with AWS Signature Version 4.
    public var signing: AWSSigning?

    public init(
        method: Method = .GET,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(5),
        signing: AWSSigning? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.signing = signing
    }
}

/// What the server answered.
public struct CurlResponse: Sendable {
    /// Status code of the final response (after any `100 Continue`).
    public let status: Int
    /// Header fields of the final response, in order.
    public let headers: [(name: String, value: String)]
    /// The body, as received.
    public let body: [UInt8]

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The body decoded as UTF-8.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// AWS credentials: an access key pair and, for temporary credentials, a session token.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The key id only; the secret and token never appear in logs.
    public var description: String { "AWSCredentials(\(accessKeyID), secret: ***)" }
}

/// How to sign a request with SigV4: `aws:amz:REGION:SERVICE` plus credentials.
///
/// libcurl 7.88 computes the signature (`CURLOPT_AWS_SIGV4`) and sets `X-Amz-Date` itself; the
/// session token travels as `X-Amz-Security-Token`. Keep query strings out of signed URLs: that
/// curl version canonicalises them differently from AWS — send parameters in a form body.
public struct AWSSigning: Sendable {
    public var region: String
    /// The signing name of the service: `monitoring` for CloudWatch, `s3` for S3.
    public var service: String
    public var credentials: AWSCredentials

    public init(region: String, service: String, credentials: AWSCredentials) {
        self.region = region
        self.service = service
        self.credentials = credentials
    }
}

/// A request that could not complete: no HTTP status to report.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable { case invalidRequest, connectionFailed, timeout, transport, shutdown }
        let base: Base
        /// The URL or options were rejected before sending.
        public static let invalidRequest = Code(base: .invalidRequest)
        /// The host could not be resolved or refused the connection.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The exchange took longer than the request's timeout.
        public static let timeout = Code(base: .timeout)
        /// The connection failed mid-exchange (reset, TLS error, bad response).
        public static let transport = Code(base: .transport)
        /// The client was shut down.
        public static let shutdown = Code(base: .shutdown)

        public var description: String {
            switch base {
            case .invalidRequest: "invalid request"
            case .connectionFailed: "connection failed"
            case .timeout: "timeout"
            case .transport: "transport error"
            case .shutdown: "client shut down"
            }
        }
    }

    public let code: Code
    public let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "HTTP \(code): \(message)" }
}
