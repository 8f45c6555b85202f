import AWS

/// The sample objects `cacheload s3 load-data` creates and the demo serves: `object-1` …
/// `object-N`, each `size` bytes of a pattern that differs per object.
package struct S3SampleObjects: Sendable {
    package let store: S3ObjectStore

    package init(store: S3ObjectStore) {
        self.store = store
    }

    /// The key of sample `index` (1-based).
    package static func key(_ index: Int) -> String { "object-\(index)" }

    /// Sample `index` with `size` bytes.
    package static func object(_ index: Int, size: Int) -> S3Object {
        S3Object(body: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }, contentType: "application/octet-stream")
    }

    /// Creates the bucket (unless it is ours already) and writes samples 1…`count`.
    /// - Returns: the keys and objects written, in order.
    @discardableResult
    package func put(count: Int, size: Int) async throws -> [(key: String, object: S3Object)] {
        try await store.createBucket()
        var written: [(key: String, object: S3Object)] = []
        for index in 1...max(1, count) {
            let object = Self.object(index, size: size)
            try await store.put(Self.key(index), object)
            written.append((Self.key(index), object))
        }
        return written
    }

    /// Deletes what the bucket has of samples 1…`count` (HEAD first: DeleteObject answers 204 for
    /// a missing key too, and only what existed is counted).
    /// - Returns: the keys deleted.
    /// - Throws: ``S3Error``, or ``S3SampleError`` when the bucket does not exist.
    package func deleteExisting(count: Int) async throws -> [String] {
        guard try await store.bucketExists() else { throw S3SampleError("bucket s3://\(store.configuration.bucket) does not exist") }
        var deleted: [String] = []
        do {
            for index in 1...max(1, count) where try await store.head(Self.key(index)) != nil {
                try await store.delete(Self.key(index))
                deleted.append(Self.key(index))
            }
        } catch {
            throw S3SampleError("\(error) (\(deleted.count) objects deleted before it)")
        }
        return deleted
    }
}

/// The sample objects could not be handled; the message says why.
package struct S3SampleError: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
