import AWS
import ArgumentParser
import CommandOptions
import CacheAside
import Foundation
import Origins
import Redis
import Server
import Telemetry

struct S3: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3",
        abstract: "Prepare and clean the S3 objects behind GET /object/{key}.",
        discussion: """
            The endpoint comes from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (path-style), else AWS.

            Examples:
              cacheload s3 load-data --bucket cacheload-objects --count 100 --size 1KB
              cacheload s3 flush            # delete the cached object:* keys only
              cacheload s3 delete-data --bucket cacheload-objects --count 100
            """,
        subcommands: [LoadData.self, Flush.self, DeleteData.self])

    struct LoadData: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-data",
            abstract: "Create the bucket and N objects of a given size, and cache them in Redis (as the sample's load_data.py does).")
        @Option(help: "Bucket name.") var bucket: String
        @Option(help: "How many objects (object-1 … object-N).") var count: Int = 100
        @Option(help: "Size of each object (bytes, KB, MB).") var size: String = "1KB"
        @Flag(help: "Only create the objects; leave Redis alone.") var noCache = false
        @Option(help: "Time to live of the cached copies, in seconds (as serve --ttl).") var ttl = WholeSeconds(3600)
        @Option(help: "TTL jitter as a fraction of --ttl (as serve --ttl-jitter).") var ttlJitter: Double = 0.1
        @OptionGroup var redis: RedisOptions

        func validate() throws {
            guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000") }
            guard ttl.seconds >= 1, (0...1).contains(ttlJitter) else { throw ValidationError("--ttl must be ≥ 1 and --ttl-jitter between 0 and 1") }
            _ = try bytes
        }

        private var bytes: Int { get throws { try usage { () throws(OptionValueError) in try SizeText.parse(size, option: "--size") } } }

        func run() async throws {
            let (store, bytes) = (S3ObjectStore(bucket: bucket, chain: AWSCredentialChain()), try self.bytes)
            let redis = noCache ? nil : RedisClient(configuration: try self.redis.configuration())
            let warmer = ObjectWarmer(samples: S3SampleObjects(store: store), redis: redis, ttl: TTLPolicy(seconds: ttl.seconds, jitter: ttlJitter))
            let (written, cached): (Int, Int)
            do {
                (written, cached) = try await warmer.load(count: count, size: bytes)
            } catch {
                await redis?.shutdown()
                await store.shutdown()
                throw CommandFailure("\(error)")
            }
            let cause = noCache || cached == written ? nil : await redis?.writeProblem()
            await redis?.shutdown()
            await store.shutdown()
            guard noCache || cached == written else {
                throw CommandFailure("\(written - cached) of \(written) objects could not be cached in Redis: \(cause ?? "Redis gave no reason")")
            }
            say("loaded \(written) objects of \(bytes) bytes into s3://\(bucket)\(noCache ? "" : " and cached them in Redis (ttl \(ttl) s)")")
        }
    }

    struct Flush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the cached object:* keys from Redis (a SCAN, not FLUSHALL).")
        @OptionGroup var redis: RedisOptions

        func run() async throws {
            let client = RedisClient(configuration: try redis.configuration())
            let cache = CacheAside(redis: client, configuration: .init(), metrics: CacheMetrics(registry: MetricsRegistry()))
            let deleted: Int
            do {
                deleted = try await cache.invalidate(prefix: CacheKey.objectPrefix)
            } catch {
                await client.shutdown()
                throw CommandFailure("\(error)")
            }
            await client.shutdown()
            say("flushed \(deleted) cached objects")
        }
    }

    struct DeleteData: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-data",
            abstract: "Delete the objects load-data created, and their cached copies in Redis.",
            discussion: "Counts only what S3 had: a second run deletes 0. A bucket that does not exist is an error.")
        @Option(help: "Bucket name.") var bucket: String
        @Option(help: "How many objects load-data created.") var count: Int = 100
        @OptionGroup var redis: RedisOptions

        func validate() throws {
            guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000") }
        }

        func run() async throws {
            let (store, client) = (S3ObjectStore(bucket: bucket, chain: AWSCredentialChain()), RedisClient(configuration: try redis.configuration()))
            let (deleted, invalidated): (Int, Int)
            do {
                (deleted, invalidated) = try await ObjectWarmer(samples: S3SampleObjects(store: store), redis: client).unload(count: count)
            } catch {
                await client.shutdown()
                await store.shutdown()
                throw CommandFailure("\(error)")
            }
            await client.shutdown()
            await store.shutdown()
            guard invalidated == deleted else {
                throw CommandFailure("deleted \(deleted) objects from s3://\(bucket) but could not remove \(deleted - invalidated) cached copies from Redis")
            }
            say("deleted \(deleted) objects from s3://\(bucket) and their cached copies")
        }
    }
}
