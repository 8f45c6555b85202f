/// An HTTP request for ``CurlClient``.
package struct CurlRequest: Sendable {
    /// The request method.
    package enum Method: String, Sendable {
        case GET, HEAD, POST, PUT, DELETE
    }

    package var method: Method
    /// Absolute `http://` or `https://` URL.
    package var url: String
    /// Header fields in order; repeated names are sent repeatedly.
    package var headers: [(name: String, value: String)]
    /// Request body (sent with `Content-Length`); `nil` sends none.
    package var body: [UInt8]?
    /// Limit for the whole exchange, connect included.
    package var timeout: Duration
    /// Limit for establishing the connection.
    package var connectTimeout: Duration
    /// When set, libcurl signs the request with AWS Signature Version 4.
    package var signing: AWSSigning?

    package init(
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
package struct CurlResponse: Sendable {
    /// Status code of the final response (after any `100 Continue`).
    package let status: Int
    /// Header fields of the final response, in order.
    package let headers: [(name: String, value: String)]
    /// The body, as received.
    package let body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared case-insensitively.
    package func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The body decoded as UTF-8.
    package var text: String { String(decoding: body, as: UTF8.self) }
}

/// AWS credentials: an access key pair and, for temporary credentials, a session token.
package struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The key id only; the secret and token never appear in logs.
    package var description: String { "AWSCredentials(\(accessKeyID), secret: ***)" }
}

/// How to sign a request with SigV4: `aws:amz:REGION:SERVICE` plus credentials.
///
/// libcurl 7.88 computes the signature (`CURLOPT_AWS_SIGV4`) and sets `X-Amz-Date` itself; the
/// session token travels as `X-Amz-Security-Token`. Keep query strings out of signed URLs: that
/// curl version canonicalises them differently from AWS — send parameters in a form body.
package struct AWSSigning: Sendable {
    package var region: String
    /// The signing name of the service: `monitoring` for CloudWatch, `s3` for S3.
    package var service: String
    package var credentials: AWSCredentials

    package init(region: String, service: String, credentials: AWSCredentials) {
        self.region = region
        self.service = service
        self.credentials = credentials
    }
}

/// A request that could not complete: no HTTP status to report.
package struct CurlError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added; switch with a `default`.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable { case invalidRequest, connectionFailed, timeout, transport, shutdown }
        let base: Base
        /// The URL or options were rejected before sending.
        package static let invalidRequest = Code(base: .invalidRequest)
        /// The host could not be resolved or refused the connection.
        package static let connectionFailed = Code(base: .connectionFailed)
        /// The exchange took longer than the request's timeout.
        package static let timeout = Code(base: .timeout)
        /// The connection failed mid-exchange (reset, TLS error, bad response).
        package static let transport = Code(base: .transport)
        /// The client was shut down.
        package static let shutdown = Code(base: .shutdown)

        package var description: String {
            switch base {
            case .invalidRequest: "invalid request"
            case .connectionFailed: "connection failed"
            case .timeout: "timeout"
            case .transport: "transport error"
            case .shutdown: "client shut down"
            }
        }
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "HTTP \(code): \(message)" }
}
