import Foundation
import HTTPCurl
import Synchronization

/// Finds AWS credentials the way the AWS SDKs do, in their order:
/// 1. environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`);
/// 2. shared files (`~/.aws/credentials`, then `~/.aws/config`, profile `AWS_PROFILE` or `default`);
/// 3. ECS container credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`);
/// 4. the EC2 instance role through IMDSv2 (token PUT, then the role's credentials).
///
/// Temporary credentials are cached and refreshed five minutes before they expire. Make one chain
/// per process and share it: its cache is what keeps a busy server from asking the metadata
/// service on every request. The HTTP client it needs for the container and instance endpoints
/// starts on first use only, and ``shutdown()`` stops it.
package final class AWSCredentialChain: Sendable {
    /// Where the credentials came from, for logs (never the secret itself).
    package enum Source: String, Sendable { case environment, sharedFile = "shared file", container, instanceMetadata = "instance metadata" }

    private let environment: [String: String]
    private let http = Mutex<(client: CurlClient?, shutDown: Bool)>((nil, false))
    private let lookingUp = Mutex<Task<(AWSCredentials, Source), any Error>?>(nil)
    private let cached = Mutex<(credentials: AWSCredentials, source: Source, expiration: Date?)?>(nil)

    /// - Parameter environment: the variables to read (the process environment by default).
    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Stops the HTTP client, if one was started; later network look-ups fail.
    package func shutdown() async {
        let client = http.withLock { state in
            defer { state = (nil, true) }
            return state.client
        }
        await client?.shutdown()
    }

    /// The client for the container and instance endpoints, started on first use.
    private func httpClient() throws -> CurlClient {
        try http.withLock { state in
            guard !state.shutDown else { throw AWSCredentialError("the credential chain was shut down") }
            if let client = state.client { return client }
            let client = CurlClient(concurrency: 1)
            state.client = client
            return client
        }
    }

    /// Valid credentials and their source.
    /// - Throws: ``AWSCredentialError`` listing every place that was tried.
    package func resolve() async throws -> (credentials: AWSCredentials, source: Source) {
        if let current = cached.withLock({ $0 }), current.expiration.map({ $0.timeIntervalSinceNow > 300 }) ?? true {
            return (current.credentials, current.source)
        }
        // One look-up at a time: a burst of callers with an empty cache makes one round of
        // metadata requests, not one each.
        let lookUp = lookingUp.withLock { current in
            if let current { return current }
            let task = Task<(AWSCredentials, Source), any Error> {
                defer { self.lookingUp.withLock { $0 = nil } }
                return try await self.lookUp()
            }
            current = task
            return task
        }
        do {
            let (credentials, source) = try await lookUp.value
            return (credentials, source)
        } catch {
            // The refresh ahead of expiry failed: keys that are still valid keep working.
            if let current = cached.withLock({ $0 }), let expiration = current.expiration, expiration.timeIntervalSinceNow > 10 {
                return (current.credentials, current.source)
            }
            throw error
        }
    }

    /// The credentials alone: the closure form S3 and CloudWatch clients take.
    @Sendable package func credentials() async throws -> AWSCredentials {
        try await resolve().credentials
    }

    private func lookUp() async throws -> (AWSCredentials, Source) {
        var tried: [String] = []
        if let credentials = fromEnvironment() {
            return remember(credentials, .environment, nil)
        }
        tried.append("environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set)")
        if let credentials = try fromSharedFiles(tried: &tried) {
            return remember(credentials, .sharedFile, nil)
        }
        if let (credentials, expiration) = try await fromContainer(tried: &tried) {
            return remember(credentials, .container, expiration)
        }
        if let (credentials, expiration) = try await fromInstanceMetadata(tried: &tried) {
            return remember(credentials, .instanceMetadata, expiration)
        }
        throw AWSCredentialError("no AWS credentials found; tried: " + tried.joined(separator: "; "))
    }

    /// The region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`.
    package func region() -> String {
        Self.region(environment: environment)
    }

    /// ``region()`` for an environment, without making a chain.
    package static func region(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"], !region.isEmpty { return region }
        let profile = environment["AWS_PROFILE"] ?? "default"
        let home = environment["HOME"] ?? NSHomeDirectory()
        let config = readINI(environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config")
        return config["profile \(profile)"]?["region"] ?? config[profile]?["region"] ?? "us-east-1"
    }

    private func remember(_ credentials: AWSCredentials, _ source: Source, _ expiration: Date?) -> (AWSCredentials, Source) {
        cached.withLock { $0 = (credentials, source, expiration) }
        return (credentials, source)
    }

    private func fromEnvironment() -> AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    private var home: String { environment["HOME"] ?? NSHomeDirectory() }
    private var credentialsPath: String { environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials" }
    private var configPath: String { environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config" }

    private func fromSharedFiles(tried: inout [String]) throws -> AWSCredentials? {
        let profile = environment["AWS_PROFILE"] ?? "default"
        let sections = [Self.readINI(credentialsPath)[profile], Self.readINI(configPath)["profile \(profile)"], Self.readINI(configPath)[profile]]
        for section in sections.compactMap({ $0 }) {
            if let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] {
                return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"])
            }
        }
        tried.append("shared files (\(credentialsPath), \(configPath): no keys for profile \"\(profile)\")")
        return nil
    }

    private func fromContainer(tried: inout [String]) async throws -> (AWSCredentials, Date?)? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            url = full
        } else {
            tried.append("container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set)")
            return nil
        }
        var headers: [(name: String, value: String)] = []
        if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] { headers.append(("Authorization", token)) }
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"],
           let token = try? String(contentsOfFile: file, encoding: .utf8) {
            headers.append(("Authorization", token.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let response = try await httpClient().execute(CurlRequest(url: url, headers: headers, timeout: .seconds(2), connectTimeout: .seconds(1)))
        guard response.status == 200 else {
            throw AWSCredentialError("container credentials endpoint \(url) answered \(response.status)")
        }
        return try Self.decodeTemporary(response.body, from: "container credentials endpoint")
    }

    private func fromInstanceMetadata(tried: inout [String]) async throws -> (AWSCredentials, Date?)? {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            tried.append("instance metadata (AWS_EC2_METADATA_DISABLED)")
            return nil
        }
        let base = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "http://169.254.169.254"
        let quick: Duration = .seconds(1)
        let token: CurlResponse
        do {
            token = try await httpClient().execute(CurlRequest(
                method: .PUT, url: base + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
                timeout: quick, connectTimeout: quick))
        } catch {
            tried.append("instance metadata (\(base) unreachable)")
            return nil
        }
        guard token.status == 200 else {
            tried.append("instance metadata (token request answered \(token.status))")
            return nil
        }
        let header = [(name: "X-aws-ec2-metadata-token", value: token.text)]
        let path = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try await httpClient().execute(CurlRequest(url: path, headers: header, timeout: quick, connectTimeout: quick))
        guard roles.status == 200, let role = roles.text.split(separator: "\n").first.map(String.init), !role.isEmpty else {
            tried.append("instance metadata (no instance role)")
            return nil
        }
        let credentials = try await httpClient().execute(CurlRequest(url: path + role, headers: header, timeout: quick, connectTimeout: quick))
        guard credentials.status == 200 else {
            throw AWSCredentialError("instance metadata credentials for role \(role) answered \(credentials.status)")
        }
        return try Self.decodeTemporary(credentials.body, from: "instance metadata")
    }

    /// `{"AccessKeyId","SecretAccessKey","Token","Expiration"}` as the ECS and EC2 endpoints send it.
    private static func decodeTemporary(_ body: [UInt8], from source: String) throws -> (AWSCredentials, Date?) {
        struct Document: Decodable {
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String?
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(body)) else {
            throw AWSCredentialError("\(source) returned a document without AccessKeyId/SecretAccessKey")
        }
        let expiration = document.Expiration.flatMap { ISO8601DateFormatter().date(from: $0) }
        return (AWSCredentials(accessKeyID: document.AccessKeyId, secretAccessKey: document.SecretAccessKey, sessionToken: document.Token), expiration)
    }

    /// The AWS shared files' sections (lenient, as the SDKs read them); empty when unreadable.
    static func readINI(_ path: String) -> [String: [String: String]] {
        INIFile.read(path)?.sections ?? [:]
    }
}

/// No credentials could be found or fetched; the message lists what was tried.
package struct AWSCredentialError: Error, Sendable, CustomStringConvertible {
    package let message: String
    init(_ message: String) { self.message = message }
    package var description: String { message }
}
