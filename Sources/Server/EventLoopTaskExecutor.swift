import NIOCore

/// Runs Swift concurrency jobs on one NIO event loop: the executor a connection's handler task
/// prefers (`withTaskExecutorPreference`), so a request is decoded, routed, answered and its
/// Redis reply resumed on the loop that owns the client's socket — no hop to the global
/// cooperative pool and back, which cost a futex wake (a thread switch) per request.
///
/// Nothing on the request path blocks (libpq runs on its own thread pool, hiredis only parses),
/// so running handlers on the loop does not stall the other connections it serves.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `loop` is immutable and an EventLoop is thread-safe to enqueue on.
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // From the loop itself `execute` only appends to the loop's queue: no wake-up.
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
