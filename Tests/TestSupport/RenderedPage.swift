import Foundation

/// An HTML report as a real browser lays it out: headless Chromium (Debian's `chromium`, which
/// scripts/bootstrap installs) loads a copy of the page with a checking script appended and
/// dumps the DOM that script annotated. The checks are on the layout, not the markup: text
/// boxes measured by the browser's own font metrics.
package struct RenderedPage {
    /// Per chart (SVG): its label and how many series paths with drawing commands it has.
    package var charts: [(label: String, paths: Int)]
    /// Layout problems found: text outside its SVG, labels over each other, boxes overflowing.
    package var problems: [String]
    /// The legends' texts, every chart's in order.
    package var legends: [String]

    /// Renders `file` at `width` CSS pixels.
    package static func render(_ file: String, width: Int = 1280) throws -> RenderedPage {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("rendered-\(UUID()).html").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try (String(contentsOfFile: file, encoding: .utf8) + checker).write(toFile: copy, atomically: true, encoding: .utf8)
        let dom = try run("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                "--virtual-time-budget=3000", "--window-size=\(width),2000", "--dump-dom", "file://\(copy)"])
        guard let start = dom.range(of: "<script id=\"layout-result\" type=\"application/json\">"),
              let end = dom.range(of: "</script>", range: start.upperBound..<dom.endIndex) else {
            throw ProcessFailure(command: "chromium --dump-dom \(file)", output: String(dom.prefix(500)))
        }
        let json = try JSONSerialization.jsonObject(with: Data(dom[start.upperBound..<end.lowerBound].utf8)) as? [String: Any] ?? [:]
        let charts = (json["charts"] as? [[String: Any]] ?? []).map { ($0["label"] as? String ?? "", $0["paths"] as? Int ?? 0) }
        return RenderedPage(charts: charts, problems: json["problems"] as? [String] ?? [], legends: json["legends"] as? [String] ?? [])
    }

    /// Measures every SVG text against its picture and its neighbours, and every block against
    /// its box; writes the findings as JSON into the page.
    private static let checker = """
        <script>
        (function () {
          const problems = [], charts = [], legends = [];
          const overlap = (a, b) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
          for (const svg of document.querySelectorAll('svg')) {
            const label = svg.getAttribute('aria-label') || '?';
            const box = svg.viewBox.baseVal;
            const paths = [...svg.querySelectorAll('path.series')].filter(p => /[ML]/.test(p.getAttribute('d') || ''));
            charts.push({label: label, paths: paths.length});
            const texts = [...svg.querySelectorAll('text')].map(t => ({text: t.textContent, box: t.getBBox()}));
            for (const t of texts) {
              if (t.box.x < -0.5 || t.box.y < -0.5 || t.box.x + t.box.width > box.width + 0.5 || t.box.y + t.box.height > box.height + 0.5)
                problems.push(label + ': "' + t.text + '" leaves the picture');
            }
            for (let i = 0; i < texts.length; i++)
              for (let j = i + 1; j < texts.length; j++)
                if (overlap(texts[i].box, texts[j].box)) problems.push(label + ': "' + texts[i].text + '" overlaps "' + texts[j].text + '"');
            for (const t of svg.querySelectorAll('text.legend')) legends.push(t.textContent);
          }
          for (const element of document.querySelectorAll('body *:not(script):not(svg):not(svg *)')) {
            if (element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).display !== 'inline')
              problems.push(element.tagName.toLowerCase() + ' overflows its box: ' + element.textContent.slice(0, 60));
          }
          if (document.documentElement.scrollWidth > window.innerWidth) problems.push('the page is wider than the window');
          const out = document.createElement('script');
          out.id = 'layout-result';
          out.type = 'application/json';
          out.textContent = JSON.stringify({problems: problems, charts: charts, legends: legends});
          document.body.appendChild(out);
        })();
        </script>
        """
}
