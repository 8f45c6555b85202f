import Foundation

/// Just enough XML reading for AWS Query-protocol and S3 answers: the text of named elements.
package enum XMLText {
    /// The text of the first `<name>…</name>` in an XML body.
    package static func element(_ name: String, in body: String) -> String? {
        guard let start = body.range(of: "<\(name)>"), let end = body.range(of: "</\(name)>", range: start.upperBound..<body.endIndex) else { return nil }
        return String(body[start.upperBound..<end.lowerBound])
    }

    /// Every `<name>…</name>` in an XML body, in order.
    package static func elements(_ name: String, in body: String) -> [String] {
        var results: [String] = []
        var searchFrom = body.startIndex
        while let start = body.range(of: "<\(name)>", range: searchFrom..<body.endIndex),
              let end = body.range(of: "</\(name)>", range: start.upperBound..<body.endIndex) {
            results.append(String(body[start.upperBound..<end.lowerBound]))
            searchFrom = end.upperBound
        }
        return results
    }

    /// Text with XML's five predefined entities replaced (`&amp;` → `&`, …).
    package static func unescaped(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
