import ConnectionPool
import Foundation
import HTTPCurl
import Postgres
import Testing
import TestSupport

/// No thread in an `init`: a client starts its threads with its first call, so making one (or
/// ten, as a misconfigured process might) costs no thread until it is used.
@Suite("Clients start their threads on first use, not when made", .serialized)
struct LazyThreadsTests {
    /// This process's threads, as the kernel counts them.
    private func threads() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    }

    @Test("ten PostgreSQL clients of 8 connections and ten HTTP clients of 4 start no thread; the first query starts its pool's")
    func noThreadsUntilUsed() async throws {
        let before = threads()
        let postgres = try (0..<10).map { _ in PostgresClient(configuration: try PostgresConfiguration(TestServices.databaseURL, poolSize: 8)) }
        let http = (0..<10).map { _ in CurlClient(concurrency: 4) }
        let made = threads()
        // 120 threads before the change; a little slack for threads other code starts meanwhile.
        #expect(made - before < 8, "\(made - before) threads started by making 20 clients")
        _ = try await postgres[0].query("SELECT 1")
        #expect(threads() - made >= 8 - 1, "the first query started its pool's threads")
        for client in postgres { await client.shutdown() }
        for client in http { await client.shutdown() }
    }

    @Test("LazyThreadPool: idle until a job, stopped by shutdown, and a job after shutdown fails instead of restarting it")
    func lifecycle() async throws {
        let pool = LazyThreadPool(numberOfThreads: 2)
        #expect(!pool.isRunning)
        #expect(try await pool.runIfActive { 41 + 1 } == 42 && pool.isRunning)
        await pool.shutdown()
        #expect(!pool.isRunning)
        await #expect(throws: (any Error).self) { try await pool.runIfActive { 1 } }
        let unused = LazyThreadPool(numberOfThreads: 2)
        await unused.shutdown()  // never started: nothing to stop, no crash
        await #expect(throws: (any Error).self) { try await unused.runIfActive { 1 } }
    }
}
