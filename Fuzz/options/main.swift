// libFuzzer target: the option grammars a user types — durations, whole seconds, sizes,
// expected statuses, segments, --start-at, --threshold and --cache-status — parse or throw their message,
// never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let duration = try DurationText.parse(text, option: "--duration")
        precondition(duration >= .zero, "negative duration from \(text)")
    } catch {
        precondition(error.message.hasPrefix("--duration"))
    }
    _ = WholeSeconds(parsing: text)
    do {
        let bytes = try SizeText.parse(text, option: "--size")
        precondition(bytes >= 0)
    } catch {
        precondition(error.message.hasPrefix("--size"))
    }
    if let expected = try? ExpectedStatus(parsing: text) {
        for status in [-1, 0, 99, 100, 404, 599, 600, Int.max] { _ = expected.contains(status) }
    }
    if let segment = try? LoadSegment(parsing: text) {
        precondition(segment.index >= 1 && segment.index <= segment.count)
        for total in [0, 1, 7, 1000] { precondition(segment.share(of: total) <= total) }
    }
    _ = try? StartTime.parse(text)
    do {
        let threshold = try Threshold(parsing: text)
        // A threshold compares against a finite, non-negative number: `p99<infms` judges nothing.
        precondition(threshold.value.isFinite && threshold.value >= 0, "threshold value \(threshold.value) from \(text)")
    } catch {
        precondition(error.message.hasPrefix("--threshold"))
    }
    if let source = try? CacheStatusSource(parsing: text) {
        // What parses prints back as something that parses to the same.
        precondition((try? CacheStatusSource(parsing: source.description)) == source, "\(text) → \(source)")
    }
    return 0
}
