import Logging
@testable import Server
import Synchronization
import Testing

/// The server's log handler: the same lines as swift-log's `StreamLogHandler`, without formatting
/// metadata that is set on every request and almost never written.
@Suite("Log lines")
struct LineLogHandlerTests {
    /// A metadata value that counts how often it is turned into text.
    final class CountedValue: CustomStringConvertible, Sendable {
        let formatted = Atomic(0)
        var description: String {
            formatted.add(1, ordering: .relaxed)
            return "req-1"
        }
    }

    /// Collects the lines a handler writes.
    final class Lines: TextOutputStream, Sendable {
        let lines = Mutex<[String]>([])
        func write(_ string: String) { lines.withLock { $0.append(string) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("metadata set per request is not formatted until a line is written; the line reads as StreamLogHandler's")
    func lazyMetadata() {
        let ours = Lines()
        var logger = Logger(label: "cacheload.test") { LineLogHandler(label: $0, metadataProvider: nil, write: ours.write) }
        logger.logLevel = .info
        let requestID = CountedValue()
        for _ in 0..<100 { logger[metadataKey: "hb.request.id"] = .stringConvertible(requestID) }
        logger.debug("below the level")
        #expect(requestID.formatted.load(ordering: .relaxed) == 0)
        #expect(ours.all.isEmpty)

        logger.warning("slow origin", metadata: ["key": "product:7"])
        #expect(requestID.formatted.load(ordering: .relaxed) == 1)
        #expect(ours.all.count == 1)

        // StreamLogHandler's line for the same message, timestamps aside.
        let theirs = Lines()
        var reference = Logger(label: "cacheload.test") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: nil) }
        reference[metadataKey: "hb.request.id"] = .stringConvertible(requestID)
        reference.warning("slow origin", metadata: ["key": "product:7"])
        let withoutTime = { (line: String) in line.drop { $0 != " " } }
        #expect(ours.all.map(withoutTime) == theirs.all.map(withoutTime))
        #expect(ours.all.first?.hasSuffix(" warning cacheload.test: hb.request.id=req-1 key=product:7 [ServerTests] slow origin\n") == true,
                "\(ours.all)")
    }

    @Test("an error attached to a message is written as StreamLogHandler writes it")
    func errorMetadata() {
        struct Refused: Error {}
        let ours = Lines(), theirs = Lines()
        let logger = Logger(label: "x") { LineLogHandler(label: $0, metadataProvider: nil, write: ours.write) }
        let reference = Logger(label: "x") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: nil) }
        logger.error("connect failed", error: Refused())
        reference.error("connect failed", error: Refused())
        let withoutTime = { (line: String) in line.drop { $0 != " " } }
        #expect(ours.all.map(withoutTime) == theirs.all.map(withoutTime), "\(ours.all) vs \(theirs.all)")
    }
}
