import AWS
import Foundation
import HTTPCurl
import Synchronization
import Telemetry

/// The real servers started by `scripts/services start`, read from its env file.
///
/// Tests fail — they never skip — when the services are missing, with the command that
/// starts them in the message.
package enum TestServices {
    /// `redis://127.0.0.1:PORT/0`
    package static var redisURL: String { value("REDIS_URL") }
    /// The shared Redis Cluster (3 primaries, 3 replicas) of `scripts/services start --cluster`.
    package static var redisClusterURL: String { value("REDIS_CLUSTER_URL") }
    /// The shared TLS-only cluster announcing host names, with its CA (`ssl_ca_certs`).
    package static var redisTLSClusterURL: String { value("REDIS_TLS_CLUSTER_URL") }
    /// `postgresql://postgres@127.0.0.1:PORT/postgres`
    package static var databaseURL: String { value("DATABASE_URL") }
    /// The MariaDB of `scripts/services`: TLS required, verified against its test CA.
    package static var mysqlURL: String { value("MYSQL_URL") }
    /// Its Unix socket, where root may connect (to create and drop test databases).
    package static var mysqlSocket: String { value("MYSQL_SOCKET_CACHELOAD") }
    /// moto_server's base URL (CloudWatch and S3).
    package static var awsEndpoint: String { value("AWS_ENDPOINT_URL") }
    package static var awsRegion: String { value("AWS_REGION") }
    /// The access key of the IAM user that scripts/services created in moto.
    package static var awsAccessKeyID: String { value("AWS_ACCESS_KEY_ID") }
    package static var awsSecretAccessKey: String { value("AWS_SECRET_ACCESS_KEY") }
    /// `NAME=value` settings that point a child process at the local AWS with the services' key.
    package static var awsEnvironment: [String] {
        ["AWS_ENDPOINT_URL=\(awsEndpoint)", "AWS_REGION=\(awsRegion)",
         "AWS_ACCESS_KEY_ID=\(awsAccessKeyID)", "AWS_SECRET_ACCESS_KEY=\(awsSecretAccessKey)"]
    }
    /// A CloudWatch client for moto_server, signing with that IAM user's keys.
    package static func cloudWatch() -> CloudWatchClient {
        CloudWatchClient(endpoint: awsEndpoint, region: awsRegion, credentials: AWSCredentialChain(environment: [
            "AWS_ACCESS_KEY_ID": awsAccessKeyID, "AWS_SECRET_ACCESS_KEY": awsSecretAccessKey,
        ]))
    }

    /// The raw values a moto_server (a ``PrivateMoto``) stored for a metric (Values/Counts
    /// expanded), from its model dump: CloudWatch has no read API that returns them, and moto
    /// computes no percentiles.
    package static func storedMetricValues(_ name: String, namespace: String, endpoint: String) async throws -> [Double] {
        let http = CurlClient(concurrency: 1)
        let response = try await http.execute(CurlRequest(url: endpoint + "/moto-api/data.json", timeout: .seconds(60)))
        await http.shutdown()
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let datums = (json?["cloudwatch"] as? [String: Any])?["MetricDatum"] as? [[String: Any]] ?? []
        return datums.filter { $0["namespace"] as? String == namespace && $0["name"] as? String == name }
            .compactMap { ($0["value"] as? NSNumber)?.doubleValue }
    }

    /// PostgreSQL's server binaries (`initdb`, `pg_ctl`).
    package static var postgresBinaries: String { value("PG_BIN") }

    /// The `cacheload` executable of the build this test run belongs to: it lies beside the test
    /// bundle (`swift build` puts products of one configuration in one directory).
    package static let cacheloadBinary: String = {
        if let path = ProcessInfo.processInfo.environment["CACHELOAD_BINARY"] { return path }
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        // The runner may sit inside the bundle (`….xctest/…`): climb out of it.
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("cacheload").path
    }()

    /// The repository root, found from this file's location.
    package static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let environment: [String: String] = {
        var values: [String: String] = [:]
        let path = ProcessInfo.processInfo.environment["CACHELOAD_SERVICES_ENV"]
            ?? repositoryRoot.appendingPathComponent(".services.env").path
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
        }
        // A variable set in the process wins over the file.
        for (key, value) in ProcessInfo.processInfo.environment where values[key] != nil {
            values[key] = value
        }
        return values
    }()

    private static func value(_ name: String) -> String {
        guard let value = environment[name], !value.isEmpty else {
            fatalError("\(name) is not set: run `scripts/services start --cluster` (or `make test`) before `swift test`")
        }
        return value
    }
}

/// A free TCP port on 127.0.0.1, chosen below Linux's ephemeral range (32768–60999) so that
/// no outgoing connection takes it between this check and the server binding it.
/// Never the same port twice in one test process, so parallel tests cannot pick the same one.
package func freeLoopbackPort() -> Int {
    while true {
        let port = Int.random(in: 20000..<32000)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        if withLoopbackSocket(port: port, bind) == 0 { return port }
    }
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// Runs `call` (bind or connect) on a new TCP socket with 127.0.0.1:`port`, closes the socket,
/// and returns the call's result.
func withLoopbackSocket(
    port: Int, _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32
) -> Int32 {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            call(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
}
