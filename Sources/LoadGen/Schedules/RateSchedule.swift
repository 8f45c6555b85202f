import Telemetry

/// When each request of an open-loop run is due: a constant rate, or k6-style stages that ramp
/// the rate linearly between targets (`30s:100,1m:1000,30s:0`).
///
/// Request n (counting from 0 across all connections) is due at the time the cumulative
/// number of scheduled requests reaches n + ½ — so every ramp is followed exactly, whatever
/// the number of connections sharing it.
package struct RateSchedule: Sendable, Equatable {
    struct Segment: Equatable {
        var start: Double
        var length: Double
        var from: Double
        var to: Double
        var countAtStart: Double

        var count: Double { length.isInfinite ? .infinity : (from + to) / 2 * length }
    }

    let segments: [Segment]

    /// A constant `rate` (requests per second), without end.
    package init(constant rate: Double) {
        segments = [Segment(start: 0, length: .infinity, from: rate, to: rate, countAtStart: 0)]
    }

    /// Stages of (duration, target rate); the rate ramps linearly from the previous target
    /// (`initialRate` for the first stage) to each stage's target.
    package init(stages: [(Duration, Double)], initialRate: Double = 0) {
        var segments: [Segment] = []
        var start = 0.0, count = 0.0, rate = initialRate
        for (duration, target) in stages {
            let length = duration / .seconds(1)
            let segment = Segment(start: start, length: length, from: rate, to: target, countAtStart: count)
            segments.append(segment)
            start += length
            count += segment.count
            rate = target
        }
        self.segments = segments
    }

    /// Parses `30s:100,1m:1000,30s:0`.
    package init(parsing text: String, initialRate: Double = 0) throws(LoadOptionError) {
        let expected = "expected DURATION:RATE[,DURATION:RATE…], e.g. 30s:100,1m:1000,30s:0"
        var stages: [(Duration, Double)] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let rate = Double(pieces[1]), rate >= 0, rate.isFinite else {
                throw LoadOptionError("--stages \"\(text)\": \"\(part)\" is not DURATION:RATE; \(expected)")
            }
            let duration = try DurationText.parse(String(pieces[0]), option: "--stages")
            guard duration > .zero else { throw LoadOptionError("--stages \"\(text)\": a stage must last longer than 0; \(expected)") }
            stages.append((duration, rate))
        }
        guard !stages.isEmpty else { throw LoadOptionError("--stages \"\(text)\": \(expected)") }
        self.init(stages: stages, initialRate: initialRate)
    }

    /// Length of all stages; `nil` for a constant rate.
    package var duration: Duration? {
        guard let last = segments.last, last.length.isFinite else { return nil }
        return .milliseconds(Int64((last.start + last.length) * 1000))
    }

    /// Requests scheduled in the first `seconds`.
    package func expectedCount(within seconds: Double) -> Double {
        var total = 0.0
        for segment in segments where seconds > segment.start {
            let elapsed = min(seconds - segment.start, segment.length)
            let rateAtEnd = segment.length.isInfinite ? segment.from : segment.from + (segment.to - segment.from) * elapsed / segment.length
            total += (segment.from + rateAtEnd) / 2 * elapsed
        }
        return total
    }

    /// The rate at `seconds` after the start.
    package func rate(at seconds: Double) -> Double {
        guard let segment = segments.last(where: { $0.start <= seconds }), seconds < segment.start + segment.length else { return 0 }
        return segment.length.isInfinite ? segment.from : segment.from + (segment.to - segment.from) * (seconds - segment.start) / segment.length
    }

    /// Seconds after the start at which request `index` is due; `nil` when the schedule ends first.
    package func time(ofRequest index: Int) -> Double? {
        let target = Double(index) + 0.5
        for segment in segments where target < segment.countAtStart + segment.count {
            let remaining = target - segment.countAtStart
            if segment.length.isInfinite || segment.from == segment.to {
                guard segment.from > 0 else { return nil }
                return segment.start + remaining / segment.from
            }
            // Solve from·τ + (to − from)/(2·length)·τ² = remaining for τ in [0, length]; this form
            // is stable for ramps up and down alike.
            let a = (segment.to - segment.from) / (2 * segment.length)
            let b = segment.from
            let root = (b * b + 4 * a * remaining).squareRoot()
            let tau = 2 * remaining / (b + root)
            return segment.start + min(max(tau, 0), segment.length)
        }
        return nil
    }
}
