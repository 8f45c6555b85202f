import NIOCore
import NIOPosix
@testable import Server
import Testing

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
