import Foundation
import HTTPCurl

/// Where the S3 objects live.
package struct S3Configuration: Sendable {
    package var bucket: String
    package var region: String
    /// A local S3 (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`): path-style URLs `endpoint/bucket/key`.
    /// `nil`: AWS, virtual-hosted `https://bucket.s3.region.amazonaws.com/key`.
    package var endpoint: String?

    package init(bucket: String, region: String, endpoint: String?) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// The endpoint the AWS SDKs would use for S3 from the environment.
    package static func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
    }
}

/// An S3 object: its bytes and content type.
package struct S3Object: Sendable, Equatable {
    package var body: [UInt8]
    package var contentType: String

    package init(body: [UInt8], contentType: String) {
        self.body = body
        self.contentType = contentType
    }

    /// The form kept in the cache: content-type length (1 byte), content type, body.
    package var cacheValue: [UInt8] {
        let type = Array(contentType.utf8.prefix(255))
        return [UInt8(type.count)] + type + body
    }

    /// Reads ``cacheValue`` back; `nil` for bytes that are not one.
    package init?(cacheValue bytes: [UInt8]) {
        guard let length = bytes.first.map(Int.init), bytes.count >= 1 + length else { return nil }
        self.init(body: Array(bytes[(1 + length)...]), contentType: String(decoding: bytes[1..<(1 + length)], as: UTF8.self))
    }
}

/// An S3 call that failed; the message carries S3's error code.
package struct S3Error: Error, Sendable, CustomStringConvertible {
    package let status: Int
    package let message: String
    package var description: String { "S3 \(status): \(message)" }
}

/// The S3 origin: GetObject, PutObject, DeleteObject and CreateBucket over libcurl with SigV4
/// (service `s3`). curl 7.88 needs the payload hash given as `x-amz-content-sha256`.
package final class S3ObjectStore: Sendable {
    package let configuration: S3Configuration
    private let http: CurlClient
    private let credentials: @Sendable () async throws -> AWSCredentials

    package init(configuration: S3Configuration, credentials: @escaping @Sendable () async throws -> AWSCredentials,
                http: CurlClient = CurlClient(concurrency: 8)) {
        self.configuration = configuration
        self.credentials = credentials
        self.http = http
    }

    /// A store for `bucket` as the process's AWS settings give it: region and credentials from
    /// `chain`, the endpoint from `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (else AWS).
    package convenience init(bucket: String, chain: AWSCredentialChain, http: CurlClient = CurlClient(concurrency: 8)) {
        self.init(configuration: S3Configuration(bucket: bucket, region: chain.region(), endpoint: S3Configuration.endpoint()),
                  credentials: { try await chain.resolve().credentials }, http: http)
    }

    /// The object, or `nil` when S3 has no such key.
    package func object(_ key: String) async throws -> S3Object? {
        let response = try await send(.GET, key: key)
        if response.status == 404 { return nil }
        try check(response)
        return S3Object(body: response.body, contentType: response.header("Content-Type") ?? "application/octet-stream")
    }

    /// Size and content type (HeadObject), or `nil` when S3 has no such key.
    package func head(_ key: String) async throws -> (size: Int, contentType: String)? {
        let response = try await send(.HEAD, key: key)
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else {
            // A HEAD answer has no body, so no error code: say what a 403 usually means.
            let hint = response.status == 403 ? "HeadObject refused (bad credentials or signature, or no permission)" : "HeadObject failed"
            throw S3Error(status: response.status, message: hint)
        }
        return (Int(response.header("Content-Length") ?? "") ?? 0, response.header("Content-Type") ?? "application/octet-stream")
    }

    /// The object's bytes as they arrive from S3, without holding the whole object in memory.
    package func stream(_ key: String) async throws -> (contentType: String, body: CurlBodyStream) {
        let response = try await http.stream(CurlRequest(
            method: .GET, url: url(key), headers: [("x-amz-content-sha256", SHA256.hex([]))], timeout: .seconds(300),
            connectTimeout: .seconds(3),
            signing: AWSSigning(region: configuration.region, service: "s3", credentials: try await credentials())))
        guard (200..<300).contains(response.status) else { throw S3Error(status: response.status, message: "GetObject failed") }
        return (response.header("Content-Type") ?? "application/octet-stream", response.body)
    }

    /// Stops the HTTP client; later calls fail.
    package func shutdown() async {
        await http.shutdown()
    }

    /// Writes (or overwrites) an object.
    package func put(_ key: String, _ object: S3Object) async throws {
        try check(try await send(.PUT, key: key, body: object.body, contentType: object.contentType))
    }

    /// Deletes an object (no error when it did not exist: S3 answers 204 either way).
    package func delete(_ key: String) async throws {
        let response = try await send(.DELETE, key: key)
        if response.status != 404 { try check(response) }
    }

    /// The keys under `prefix` (ListObjectsV2, every page), in S3's order.
    package func list(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        // libcurl 7.88 signs the query as written, and signers disagree on an encoded `/` in
        // it: S3 is asked for the prefix's leading unreserved characters (`run-42` of
        // `run-42/`), which need no encoding, and the rest is filtered here.
        let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let asked = String(prefix.unicodeScalars.prefix { $0.isASCII && unreserved.contains($0) })
        repeat {
            // Query parameters sorted by name, as SigV4's canonical request has them.
            var query = [("list-type", "2"), ("prefix", asked)]
            if let token { query.insert(("continuation-token", token), at: 0) }
            let response = try await send(.GET, key: nil, query: query.map { "\($0)=\(Self.queryEncoded($1))" }.joined(separator: "&"))
            try check(response)
            let text = response.text
            keys += XMLText.elements("Key", in: text).map(XMLText.unescaped).filter { $0.hasPrefix(prefix) }
            token = XMLText.element("IsTruncated", in: text) == "true" ? XMLText.element("NextContinuationToken", in: text).map(XMLText.unescaped) : nil
        } while token != nil
        return keys
    }

    /// AWS's query encoding: everything but unreserved characters percent-encoded.
    private static func queryEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// Whether the bucket exists and these credentials may use it (HeadBucket).
    /// - Throws: ``S3Error`` for any answer but 200 or 404 (403: no permission or bad credentials).
    package func bucketExists() async throws -> Bool {
        let response = try await send(.HEAD, key: nil)
        switch response.status {
        case 200..<300: return true
        case 404: return false
        default: throw S3Error(status: response.status, message: "HeadBucket refused (bad credentials or signature, or no permission)")
        }
    }

    /// Creates the bucket unless it is already ours.
    package func createBucket() async throws {
        let response = try await send(.PUT, key: nil)
        if response.status == 409, response.text.contains("BucketAlreadyOwnedByYou") { return }
        try check(response)
    }

    private func url(_ key: String?, query: String?) -> String {
        let base = url(key)
        guard let query else { return base }
        return base + (base.hasSuffix("/") || key != nil ? "" : "/") + "?" + query
    }

    private func url(_ key: String?) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        let path = key.map { "/" + ($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0) } ?? ""
        if let endpoint = configuration.endpoint {
            return "\(endpoint)/\(configuration.bucket)\(path)"
        }
        return "https://\(configuration.bucket).s3.\(configuration.region).amazonaws.com\(path.isEmpty ? "/" : path)"
    }

    private func send(_ method: CurlRequest.Method, key: String?, query: String? = nil, body: [UInt8]? = nil,
                      contentType: String? = nil) async throws -> CurlResponse {
        var headers: [(name: String, value: String)] = [("x-amz-content-sha256", SHA256.hex(body ?? []))]
        if let contentType { headers.append(("Content-Type", contentType)) }
        return try await http.execute(CurlRequest(
            method: method, url: url(key, query: query), headers: headers, body: body, timeout: .seconds(30), connectTimeout: .seconds(3),
            signing: AWSSigning(region: configuration.region, service: "s3", credentials: try await credentials())))
    }

    private func check(_ response: CurlResponse) throws {
        guard (200..<300).contains(response.status) else {
            let text = response.text
            throw S3Error(status: response.status, message: XMLText.element("Code", in: text) ?? String(text.prefix(200)))
        }
    }
}
