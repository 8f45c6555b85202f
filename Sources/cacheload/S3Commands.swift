import ArgumentParser
import Foundation
import Origins
import Redis
import Telemetry

struct S3: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3",
        abstract: "Prepare and clean the S3 objects behind GET /object/{key}.",
        discussion: """
            The endpoint comes from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (path-style), else AWS.

            Examples:
              cacheload s3 load-data --bucket cacheload-objects --count 100 --size 1KB
              cacheload s3 flush                     # delete the cached object:* keys only
              cacheload s3 delete-data --bucket cacheload-objects --count 100
            """,
        subcommands: [LoadData.self, Flush.self, DeleteData.self])

    static func store(bucket: String) -> S3ObjectStore {
        let chain = AWSCredentialChain()
        return S3ObjectStore(configuration: S3Configuration(bucket: bucket, region: chain.region(), endpoint: S3Configuration.endpoint()),
                             credentials: { try await chain.resolve().credentials })
    }

    static func key(_ index: Int) -> String { "object-\(index)" }

    static func parseSize(_ text: String) throws -> Int {
        let upper = text.uppercased()
        let units: [(String, Int)] = [("KB", 1024), ("MB", 1024 * 1024), ("B", 1)]
        for (suffix, factor) in units where upper.hasSuffix(suffix) {
            if let value = Int(upper.dropLast(suffix.count)), value >= 0 { return value * factor }
        }
        guard let bytes = Int(upper), bytes >= 0 else { throw ValidationError("--size \"\(text)\": expected bytes, KB or MB, e.g. 1KB") }
        return bytes
    }

    struct LoadData: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-data",
            abstract: "Create the bucket and N objects of a given size, and cache them in Redis (as the sample's load_data.py does).")
        @Option(help: "Bucket name.") var bucket: String
        @Option(help: "How many objects (object-1 … object-N).") var count: Int = 100
        @Option(help: "Size of each object (bytes, KB, MB).") var size: String = "1KB"
        @Flag(help: "Only create the objects; leave Redis alone.") var noCache = false
        @OptionGroup var connections: ConnectionOptions

        func validate() throws {
            guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000") }
            _ = try S3.parseSize(size)
        }

        func run() async throws {
            let store = S3.store(bucket: bucket)
            let bytes = try S3.parseSize(size)
            let redis = noCache ? nil : RedisClient(configuration: try connections.redisConfiguration())
            do {
                try await store.createBucket()
                for index in 1...count {
                    let body = (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
                    let object = S3Object(body: body, contentType: "application/octet-stream")
                    try await store.put(S3.key(index), object)
                    try await redis?.set("object:\(S3.key(index))", object.cacheValue, expireSeconds: 3600)
                }
            } catch {
                await redis?.shutdown()
                throw CleanExit.message("error: \(error)")
            }
            await redis?.shutdown()
            say("loaded \(count) objects of \(bytes) bytes into s3://\(bucket)\(noCache ? "" : " and cached them in Redis")")
        }
    }

    struct Flush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the cached object:* keys from Redis (not FLUSHALL).")
        @OptionGroup var connections: ConnectionOptions

        func run() async throws {
            let redis = RedisClient(configuration: try connections.redisConfiguration())
            var cursor = "0", deleted = 0
            repeat {
                guard case .array(let reply) = try await redis.send(RedisCommand("SCAN", cursor, "MATCH", "object:*", "COUNT", "1000")),
                      reply.count == 2, let next = reply[0].text, case .array(let keys) = reply[1] else {
                    await redis.shutdown()
                    throw CleanExit.message("error: unexpected SCAN reply")
                }
                let names = keys.compactMap(\.text)
                if !names.isEmpty { deleted += try await redis.del(names) }
                cursor = next
            } while cursor != "0"
            await redis.shutdown()
            say("flushed \(deleted) cached objects")
        }
    }

    struct DeleteData: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-data", abstract: "Delete the objects load-data created.")
        @Option(help: "Bucket name.") var bucket: String
        @Option(help: "How many objects load-data created.") var count: Int = 100

        func run() async throws {
            let store = S3.store(bucket: bucket)
            for index in 1...max(1, count) { try await store.delete(S3.key(index)) }
            say("deleted \(count) objects from s3://\(bucket)")
        }
    }
}
