import Foundation

/// Results of one split run read back for `report merge`: merged exactly, checked for being one
/// plan, and told apart from an incomplete run.
package struct LoadMerge {
    package var result: LoadResult
    /// Segments of the run that no result was found for (a dead or late machine).
    package var missing: [Int]
    /// Segments that were stopped before their schedule ended (their result says `interrupted`).
    package var interruptedSegments: [Int] = []
    /// The merged segments' plan, when they carried one.
    package var planID: String?
    /// How many results were merged.
    package var sources: Int

    /// A split run with segments missing: what to tell (exit 1, as for any run not done).
    package struct Incomplete: Error, CustomStringConvertible {
        package let missing: [Int]
        package let count: Int
        /// Segments whose result says they were stopped (Ctrl-C, SIGTERM) before their schedule ended.
        package var interrupted: [Int] = []
        package var description: String {
            var reasons: [String] = []
            if !missing.isEmpty {
                reasons.append("no result for segment \(missing.map(String.init).joined(separator: ", ")) of \(count) (a machine that died or is late)")
            }
            if !interrupted.isEmpty {
                reasons.append("segment \(interrupted.map(String.init).joined(separator: ", ")) of \(count) was interrupted before its schedule ended")
            }
            return "incomplete run: " + reasons.joined(separator: "; ") + "; nothing judged as the whole run"
        }
    }

    /// Merges `documents` (`cacheload load --json` results).
    /// - Parameter expectedSegments: the run's segment count when known (`--segments`), so
    ///   segments are named missing even when none arrived.
    /// - Throws: `LoadInputError` for a document that is no result, results of different plans,
    ///   a segment given twice, or whole runs mixed with segments; ``Incomplete`` when nothing arrived.
    package init(_ documents: [(source: String, data: Data)], expectedSegments: Int? = nil) throws {
        if documents.isEmpty, let expectedSegments, expectedSegments > 0 {
            throw Incomplete(missing: Array(1...expectedSegments), count: expectedSegments)
        }
        var results: [(source: String, result: LoadResult)] = []
        for (source, data) in documents {
            do {
                results.append((source, try LoadResult.fromJSON(data)))
            } catch {
                throw LoadInputError("\(source): not a cacheload load --json result (\(error.localizedDescription))")
            }
        }
        guard var merged = results.first?.result else { throw LoadInputError("no results to merge") }
        let segments = results.compactMap(\.result.segment)
        guard segments.isEmpty || segments.count == results.count, Set(segments.map(\.count)).count <= 1 else {
            throw LoadInputError("whole runs and segments (or segments of different splits) cannot be merged as one run")
        }
        // Segments are parts of one plan; whole runs (by hand, against one target) may differ.
        let plans = Dictionary(grouping: results, by: { $0.result.planID ?? "" })
        guard segments.isEmpty || plans.count == 1 else {
            let examples = plans.map { "\($0.value[0].source) (plan \($0.key.isEmpty ? "unknown" : $0.key))" }.sorted()
            throw LoadInputError("results of different plans: \(examples.joined(separator: ", ")); merge the segments of one run only")
        }
        for (index, group) in Dictionary(grouping: results, by: { $0.result.segment?.index ?? 0 }) where index > 0 && group.count > 1 {
            throw LoadInputError("segment \(index) appears twice (\(group.map(\.source).joined(separator: ", "))); give each segment once")
        }
        for other in results.dropFirst() { merged.merge(other.result) }
        let starts = results.compactMap(\.result.startedAt)
        merged.startedAt = starts.min()
        merged.startSkewSeconds = starts.isEmpty ? nil : starts.max()! - starts.min()!
        merged.mergedSegments = segments.isEmpty ? nil : segments.sorted { $0.index < $1.index }
        merged.segment = nil
        let count = segments.first?.count ?? expectedSegments ?? 0
        if let expectedSegments, let split = segments.first?.count, split != expectedSegments {
            throw LoadInputError("the results are segments of a \(split)-way split, not of \(expectedSegments) (--segments)")
        }
        missing = count == 0 ? [] : Array(Set(1...count).subtracting(segments.map(\.index))).sorted()
        interruptedSegments = results.filter { $0.result.interrupted }.compactMap(\.result.segment?.index).sorted()
        planID = results[0].result.planID
        sources = results.count
        result = merged
    }

    /// The run's missing segments as an error to end with; `nil` when none is missing.
    package var incomplete: Incomplete? {
        guard !missing.isEmpty || !interruptedSegments.isEmpty else { return nil }
        var incomplete = Incomplete(missing: missing, count: result.mergedSegments?.first?.count ?? missing.count)
        incomplete.interrupted = interruptedSegments
        return incomplete
    }

    /// `merged segments 1, 2, 3 of 3 (plan 1a2b…), started within 2.1 ms of each other`.
    package var description: String {
        guard let segments = result.mergedSegments, let count = segments.first?.count else { return "merged \(sources) results" }
        var text = "merged segments \(segments.map { "\($0.index)" }.joined(separator: ", ")) of \(count)"
        if let planID { text += " (plan \(planID))" }
        if let skew = result.startSkewSeconds { text += String(format: ", started within %.1f ms of each other", skew * 1000) }
        return text
    }
}
