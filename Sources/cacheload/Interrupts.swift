import UnixSignals

/// SIGINT and SIGTERM for the subcommands that are not a `ServiceGroup` (`load`, `demo`), through
/// the same mechanism `ServiceGroup` uses for `serve` and `export` (swift-service-lifecycle's
/// `UnixSignalsSequence`): one way of handling signals in the whole binary.
enum Interrupts {
    /// Calls `action` on the first SIGINT or SIGTERM; cancel the returned task to stop watching.
    static func onFirst(_ action: @escaping @Sendable () -> Void) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        return Task {
            for await _ in signals {
                action()
                return
            }
        }
    }
}
