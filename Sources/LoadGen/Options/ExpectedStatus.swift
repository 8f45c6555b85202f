import Foundation
import Telemetry

/// The statuses a run expects (`--expect-status`): any other answer is an HTTP failure, as k6's
/// `http_req_failed` counts them. By default 100–399: every 4xx and 5xx is a failure, so a gate
/// such as `errors<1%` fails on a service that answers 503 to everything.
package struct ExpectedStatus: Sendable, Equatable, CustomStringConvertible {
    /// One flag per status 0…599.
    private var expected: [Bool]
    package let description: String

    /// 100–399.
    package static let `default` = ExpectedStatus(ranges: [100...399], description: "100-399")

    private init(ranges: [ClosedRange<Int>], description: String) {
        expected = Array(repeating: false, count: 600)
        for range in ranges { for status in range { expected[status] = true } }
        self.description = description
    }

    /// Parses `404`, `200-299,404`, … (statuses 100–599).
    package init(parsing text: String) throws(LoadOptionError) {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                  100 <= low, low <= high, high <= 599 else {
                throw LoadOptionError("--expect-status \"\(text)\": expected statuses or ranges from 100 to 599, such as 200-399,404")
            }
            ranges.append(low...high)
        }
        self.init(ranges: ranges, description: text)
    }

    /// Whether `status` is expected.
    package func contains(_ status: Int) -> Bool {
        status >= 0 && status < expected.count && expected[status]
    }
}
