import AWS
import Foundation
import HTTPCurl
import Telemetry

/// Where results of a split run go and are read back: a local path, or `s3://bucket/key` —
/// a place every machine of the fleet can write and the merge can list (`--json s3://…`,
/// `report merge s3://bucket/prefix/`), through the same credential chain as everything else.
package enum LoadResultLocation: Equatable, Sendable, CustomStringConvertible {
    case file(String)
    case s3(bucket: String, key: String)

    /// `s3://bucket/key…` or a path.
    package init(_ text: String) {
        guard text.hasPrefix("s3://") else {
            self = .file(text)
            return
        }
        let rest = text.dropFirst("s3://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let key = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
        self = .s3(bucket: String(rest[..<slash]), key: key)
    }

    package var description: String {
        switch self {
        case .file(let path): path
        case .s3(let bucket, let key): "s3://\(bucket)/\(key)"
        }
    }
}

/// Reads and writes results at ``LoadResultLocation``s; one S3 client per bucket, made on
/// first use and shut down by ``shutdown()``.
package actor LoadResultStore {
    private var stores: [String: S3ObjectStore] = [:]
    /// The process's credential chain (one per process): the run's other AWS calls (`--cloudwatch`)
    /// use it too; ``shutdown()`` stops it.
    package nonisolated let chain: AWSCredentialChain

    package init(chain: AWSCredentialChain = AWSCredentialChain()) {
        self.chain = chain
    }

    /// Writes `data` (a result document) to `location`.
    package func write(_ data: Data, to location: LoadResultLocation) async throws {
        switch location {
        case .file(let path):
            try OutputFile.write(data, to: path, flag: "--json")
        case .s3(let bucket, let key):
            try await store(bucket).put(key, S3Object(body: Array(data), contentType: "application/json"))
        }
    }

    /// The results at `location`: one file, or every `.json` object under an S3 prefix.
    /// - Returns: each result with where it came from.
    package func read(_ location: LoadResultLocation) async throws -> [(source: String, data: Data)] {
        switch location {
        case .file(let path):
            return [(path, try OutputFile.read(path))]
        case .s3(let bucket, let prefix):
            let store = try store(bucket)
            var results: [(source: String, data: Data)] = []
            for key in try await store.list(prefix: prefix) where key.hasSuffix(".json") {
                guard let object = try await store.object(key) else { continue }
                results.append(("s3://\(bucket)/\(key)", Data(object.body)))
            }
            return results
        }
    }

    /// Checks before a run that the bucket exists and these credentials reach it.
    package func checkReachable(_ location: LoadResultLocation) async throws {
        guard case .s3(let bucket, _) = location else { return }
        guard try await store(bucket).bucketExists() else {
            throw LoadOptionError("--json \(location): bucket \(bucket) does not exist (or is not in this region)")
        }
    }

    package func shutdown() async {
        for store in stores.values { await store.shutdown() }
        stores = [:]
        await chain.shutdown()
    }

    private func store(_ bucket: String) throws -> S3ObjectStore {
        if let store = stores[bucket] { return store }
        let store = S3ObjectStore(bucket: bucket, chain: chain, http: CurlClient(concurrency: 2))
        stores[bucket] = store
        return store
    }
}
