import Foundation

/// One CloudWatch data point: a name, dimensions, a timestamp and either a single value, a
/// statistic set (count, sum, min, max) or values with counts.
package struct MetricDatum: Sendable, Codable, Equatable {
    /// CloudWatch units this suite uses.
    package enum Unit: String, Sendable, Codable {
        case count = "Count", percent = "Percent", milliseconds = "Milliseconds", seconds = "Seconds", none = "None"
    }

    /// A pre-aggregated set of samples.
    package struct StatisticSet: Sendable, Codable, Equatable {
        package var sampleCount: Double
        package var sum: Double
        package var minimum: Double
        package var maximum: Double

        package init(sampleCount: Double, sum: Double, minimum: Double, maximum: Double) {
            self.sampleCount = sampleCount
            self.sum = sum
            self.minimum = minimum
            self.maximum = maximum
        }

        /// One sample.
        package init(_ value: Double) {
            self.init(sampleCount: 1, sum: value, minimum: value, maximum: value)
        }

        mutating func add(_ value: Double) {
            sampleCount += 1
            sum += value
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
        }
    }

    /// The data of the point.
    package enum Value: Sendable, Codable, Equatable {
        case single(Double)
        case statistics(StatisticSet)
        /// Distinct values and how often each occurred (at most 150 per datum; longer lists are split).
        case distribution(values: [Double], counts: [Double])
    }

    package var name: String
    package var unit: Unit
    package var dimensions: [Dimension]
    package var timestamp: Date
    package var value: Value
    /// 60 (standard) or 1 (high resolution).
    package var storageResolution: Int

    package init(name: String, unit: Unit, dimensions: [Dimension], timestamp: Date, value: Value, storageResolution: Int = 60) {
        self.name = name
        self.unit = unit
        self.dimensions = dimensions
        self.timestamp = timestamp
        self.value = value
        self.storageResolution = storageResolution
    }
}

/// A CloudWatch dimension (`Service=cacheload`, `Environment=dev`).
package struct Dimension: Sendable, Codable, Equatable, Hashable {
    package var name: String
    package var value: String
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
