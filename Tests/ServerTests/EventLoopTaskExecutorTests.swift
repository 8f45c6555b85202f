import NIOCore
import NIOPosix
import Redis
@testable import Server
import Testing
import TestSupport

/// The hit path's premise: a task preferring a connection's ``EventLoopTaskExecutor`` runs on
/// that loop's thread, before and after a suspension, so no request crosses threads.
@Suite("Handlers run on their connection's event loop")
struct EventLoopTaskExecutorTests {
    @Test("a task preferring the executor runs on its loop, also after awaiting a future completed on that loop")
    func runsOnTheLoop() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let executor = EventLoopTaskExecutor(loop: loop)
        let (before, after) = try await withTaskExecutorPreference(executor) {
            let before = MultiThreadedEventLoopGroup.currentEventLoop === loop
            let value = try await loop.scheduleTask(in: .milliseconds(5)) { 42 }.futureResult.get()
            #expect(value == 42)
            return (before, MultiThreadedEventLoopGroup.currentEventLoop === loop)
        }
        #expect(before)
        #expect(after)
        // Without the preference the same code runs on Swift's cooperative pool instead.
        #expect(MultiThreadedEventLoopGroup.currentEventLoop == nil)
    }
}

/// The other half of the premise: the Redis reply to a handler comes back on the handler's loop,
/// because its command went out on a connection of that loop.
@Suite("Redis connections follow the caller's event loop")
struct RedisLoopAffinityTests {
    @Test("tasks on two loops: each loop's commands soon go through a connection of its own, not the first loop's")
    func connectionPerLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        // One slot per loop (slots take the group's loops in turn).
        let client = RedisClient(configuration: try RedisConfiguration(url: TestServices.redisURL, poolSize: 2), eventLoopGroup: group)
        /// The id of the connection a `CLIENT ID` sent from a task on `loop` went through.
        func connectionID(from loop: any EventLoop) async throws -> Int {
            try await withTaskExecutorPreference(EventLoopTaskExecutor(loop: loop)) {
                guard case .integer(let id) = try await client.send(RedisCommand("CLIENT", "ID")) else { return -1 }
                return id
            }
        }
        let first = try await connectionID(from: loops[0])
        // The second loop's first commands may borrow the first loop's connection while its own
        // opens; within a bounded number of commands its own must be the one used.
        var second = first
        for _ in 0..<2000 where second == first {
            second = try await connectionID(from: loops[1])
        }
        #expect(second != first, "the second loop never got a connection of its own")
        for _ in 0..<20 {
            #expect(try await connectionID(from: loops[1]) == second)
            #expect(try await connectionID(from: loops[0]) == first)
        }
        await client.shutdown()
        try await group.shutdownGracefully()
    }
}
