import Foundation

/// PutMetricData in the AWS Query protocol (form-encoded POST, Version 2010-08-01), split to
/// stay inside the API's limits: ≤ 1000 datums and < 1 MB per request, ≤ 150 values per datum.
enum PutMetricData {
    static let maximumDatums = 1000
    static let maximumValuesPerDatum = 150
    static let maximumBodyBytes = 1_000_000

    /// Splits datums with too many values, then groups datums into request bodies.
    static func bodies(namespace: String, datums: [MetricDatum]) -> [(body: String, datums: [MetricDatum])] {
        let split = datums.flatMap(splitValues)
        var requests: [(String, [MetricDatum])] = []
        var current: [MetricDatum] = []
        var currentBody = header(namespace)
        for datum in split {
            let encoded = encode(datum, index: current.count + 1)
            if !current.isEmpty && (current.count == maximumDatums || currentBody.utf8.count + encoded.utf8.count >= maximumBodyBytes) {
                requests.append((currentBody, current))
                current = []
                currentBody = header(namespace)
            }
            current.append(datum)
            currentBody += encode(datum, index: current.count)
        }
        if !current.isEmpty { requests.append((currentBody, current)) }
        return requests
    }

    private static func header(_ namespace: String) -> String {
        "Action=PutMetricData&Version=2010-08-01&Namespace=\(escape(namespace))"
    }

    private static func splitValues(_ datum: MetricDatum) -> [MetricDatum] {
        guard case .distribution(let values, let counts) = datum.value, values.count > maximumValuesPerDatum else { return [datum] }
        return stride(from: 0, to: values.count, by: maximumValuesPerDatum).map { start in
            var part = datum
            let end = min(start + maximumValuesPerDatum, values.count)
            part.value = .distribution(values: Array(values[start..<end]), counts: Array(counts[start..<end]))
            return part
        }
    }

    static func encode(_ datum: MetricDatum, index: Int) -> String {
        let prefix = "&MetricData.member.\(index)."
        var out = "\(prefix)MetricName=\(escape(datum.name))\(prefix)Unit=\(datum.unit.rawValue)"
        out += "\(prefix)Timestamp=\(escape(timestamp(datum.timestamp)))"
        if datum.storageResolution == 1 { out += "\(prefix)StorageResolution=1" }
        for (position, dimension) in datum.dimensions.enumerated() {
            out += "\(prefix)Dimensions.member.\(position + 1).Name=\(escape(dimension.name))"
            out += "\(prefix)Dimensions.member.\(position + 1).Value=\(escape(dimension.value))"
        }
        switch datum.value {
        case .single(let value):
            out += "\(prefix)Value=\(number(value))"
        case .statistics(let set):
            out += "\(prefix)StatisticValues.SampleCount=\(number(set.sampleCount))\(prefix)StatisticValues.Sum=\(number(set.sum))"
            out += "\(prefix)StatisticValues.Minimum=\(number(set.minimum))\(prefix)StatisticValues.Maximum=\(number(set.maximum))"
        case .distribution(let values, let counts):
            for (position, value) in values.enumerated() {
                out += "\(prefix)Values.member.\(position + 1)=\(number(value))"
                out += "\(prefix)Counts.member.\(position + 1)=\(number(counts[position]))"
            }
        }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Form encoding (application/x-www-form-urlencoded): RFC 3986 unreserved characters kept,
    /// space as `+`, everything else percent-encoded. Spaces as `+` is also what the services'
    /// own signature checks expect when they re-encode the form.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~ ")
        let encoded = text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        return encoded.replacingOccurrences(of: " ", with: "+")
    }
}
