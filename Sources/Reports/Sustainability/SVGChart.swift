import Foundation

/// The report's charts as inline SVG (no script, no external request): power over time, bars with interval whiskers,
/// and a daily trend. Each is an `<svg class="chart" data-chart="…">` with a `<title>` for screen readers.
enum SVGChart {
    static let width = 720.0, height = 260.0, left = 64.0, right = 16.0, top = 16.0, bottom = 40.0
    static let palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

    /// Stacked areas for the channels that add up, dashed lines for detail channels over them.
    static func power(_ series: [SustainabilityReport.PowerSeries], title: String) -> String {
        let totals = series.filter { $0.role == "total" && !$0.watts.isEmpty }
        let details = series.filter { $0.role != "total" && !$0.watts.isEmpty }
        guard let xs = (totals.first ?? details.first)?.seconds, let maxX = xs.last, maxX > 0 else { return "" }
        var stacked: [[Double]] = []
        var running = [Double](repeating: 0, count: xs.count)
        for s in totals {
            running = zip(running, s.watts).map { $0 + $1 }
            stacked.append(running)
        }
        let maxY = max((stacked.last ?? []).max() ?? 0, details.flatMap(\.watts).max() ?? 0, 1e-9) * 1.1
        func x(_ v: Double) -> Double { left + v / maxX * (width - left - right) }
        func y(_ v: Double) -> Double { height - bottom - v / maxY * (height - top - bottom) }
        var body = axes(xMax: maxX, yMax: maxY, xLabel: "seconds", yLabel: "W")
        for (i, s) in totals.enumerated().reversed() {
            let upper = zip(xs, stacked[i]).map { "\(f(x($0))),\(f(y($1)))" }
            let lower =
                i == 0
                ? ["\(f(x(xs.last!))),\(f(y(0)))", "\(f(x(xs[0]))),\(f(y(0)))"]
                : zip(xs, stacked[i - 1]).reversed().map { "\(f(x($0))),\(f(y($1)))" }
            body +=
                "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(palette[i % palette.count])\" fill-opacity=\"0.75\"><title>\(escape(s.key))</title></polygon>"
        }
        for (i, s) in details.enumerated() {
            let points = zip(s.seconds, s.watts).map { "\(f(x($0))),\(f(y($1)))" }.joined(separator: " ")
            body +=
                "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(palette[(totals.count + i) % palette.count])\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"><title>\(escape(s.key)) (detail)</title></polyline>"
        }
        let legend = totals.map { ($0.key, false) } + details.map { ($0.key + " (detail)", true) }
        return svg("power", title: title, body + self.legend(legend.map(\.0), dashed: legend.map(\.1)))
    }

    /// Horizontal bars with optional interval whiskers.
    static func bars(_ items: [(label: String, value: Double, low: Double?, high: Double?)], unit: String, kind: String, title: String)
        -> String
    {
        guard !items.isEmpty else { return "" }
        let rowHeight = 28.0, labelWidth = 220.0
        let h = top + bottom + rowHeight * Double(items.count)
        let maxV = max(items.map { max($0.value, $0.high ?? 0) }.max() ?? 0, 1e-12) * 1.1
        func x(_ v: Double) -> Double { labelWidth + v / maxV * (width - labelWidth - right) }
        var body = ""
        for (i, item) in items.enumerated() {
            let y0 = top + Double(i) * rowHeight
            // Long labels are cut to what fits left of the bars; the bar's tooltip keeps the whole label.
            let shown = item.label.count > 34 ? String(item.label.prefix(33)) + "…" : item.label
            body +=
                "<text x=\"\(f(labelWidth - 6))\" y=\"\(f(y0 + rowHeight * 0.62))\" text-anchor=\"end\" font-size=\"12\">\(escape(shown))</text>"
            body +=
                "<rect x=\"\(f(labelWidth))\" y=\"\(f(y0 + 4))\" width=\"\(f(max(x(item.value) - labelWidth, 0.5)))\" height=\"\(f(rowHeight - 8))\" fill=\"\(palette[i % palette.count])\"><title>\(escape(item.label)): \(num(item.value)) \(unit)</title></rect>"
            if let low = item.low, let high = item.high {
                let ym = y0 + rowHeight / 2
                body +=
                    "<line x1=\"\(f(x(low)))\" x2=\"\(f(x(high)))\" y1=\"\(f(ym))\" y2=\"\(f(ym))\" stroke=\"#000\" stroke-width=\"1.2\"/>"
                for end in [low, high] {
                    body +=
                        "<line x1=\"\(f(x(end)))\" x2=\"\(f(x(end)))\" y1=\"\(f(ym - 6))\" y2=\"\(f(ym + 6))\" stroke=\"#000\" stroke-width=\"1.2\"/>"
                }
            }
            body +=
                "<text x=\"\(f(min(x(item.high ?? item.value) + 6, width - 4)))\" y=\"\(f(y0 + rowHeight * 0.62))\" font-size=\"11\" text-anchor=\"\(x(item.high ?? item.value) + 80 > width ? "end" : "start")\">\(num(item.value)) \(escape(unit))</text>"
        }
        return svg(kind, title: title, body, height: h)
    }

    /// Vertical bars, one per day.
    static func trend(_ days: [SustainabilityReport.Day], title: String) -> String {
        guard !days.isEmpty else { return "" }
        let maxY = max(days.map(\.kWh).max() ?? 0, 1e-12) * 1.1
        let slot = (width - left - right) / Double(days.count)
        func y(_ v: Double) -> Double { height - bottom - v / maxY * (height - top - bottom) }
        var body = axes(xMax: nil, yMax: maxY, xLabel: "day", yLabel: "kWh")
        for (i, d) in days.enumerated() {
            let x0 = left + Double(i) * slot
            body +=
                "<rect x=\"\(f(x0 + slot * 0.15))\" y=\"\(f(y(d.kWh)))\" width=\"\(f(max(slot * 0.7, 1)))\" height=\"\(f(max(y(0) - y(d.kWh), 0.5)))\" fill=\"\(palette[0])\"><title>\(escape(d.day)): \(num(d.kWh)) kWh, \(d.runs) run(s)</title></rect>"
            if days.count <= 31 {
                body +=
                    "<text x=\"\(f(x0 + slot / 2))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" font-size=\"10\">\(escape(String(d.day.suffix(5))))</text>"
            }
        }
        return svg("trend", title: title, body)
    }

    static func axes(xMax: Double?, yMax: Double, xLabel: String, yLabel: String) -> String {
        var out =
            "<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - right))\" y2=\"\(f(height - bottom))\" stroke=\"#444\"/>"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"#444\"/>"
        for k in 0...4 {
            let v = yMax * Double(k) / 4, yy = height - bottom - Double(k) / 4 * (height - top - bottom)
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(yy + 4))\" text-anchor=\"end\" font-size=\"10\">\(num(v))</text>"
            if let xMax {
                let xv = xMax * Double(k) / 4, xx = left + Double(k) / 4 * (width - left - right)
                out += "<text x=\"\(f(xx))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" font-size=\"10\">\(num(xv))</text>"
            }
        }
        out += "<text x=\"\(f((left + width) / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\" font-size=\"11\">\(xLabel)</text>"
        out += "<text x=\"14\" y=\"\(f(top + 10))\" font-size=\"11\">\(yLabel)</text>"
        return out
    }

    static func legend(_ labels: [String], dashed: [Bool]) -> String {
        var out = ""
        for (i, label) in labels.enumerated() {
            let y = top + 4 + Double(i) * 14, x = width - right - 190
            let color = palette[i % palette.count]
            out +=
                dashed[i]
                ? "<line x1=\"\(f(x))\" x2=\"\(f(x + 14))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>"
                : "<rect x=\"\(f(x))\" y=\"\(f(y - 5))\" width=\"14\" height=\"10\" fill=\"\(color)\"/>"
            out += "<text x=\"\(f(x + 18))\" y=\"\(f(y + 4))\" font-size=\"10\">\(escape(label))</text>"
        }
        return out
    }

    static func svg(_ kind: String, title: String, _ body: String, height h: Double = height) -> String {
        "<svg class=\"chart\" data-chart=\"\(kind)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(h))\" width=\"\(f(width))\" height=\"\(f(h))\" role=\"img\"><title>\(escape(title))</title>\(body)</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v.isFinite ? v : 0) }
    static func num(_ v: Double) -> String { v == 0 ? "0" : String(format: "%.3g", v) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;"
        )
        .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
