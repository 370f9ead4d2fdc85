import Foundation

/// A minimal SVG writer: elements appended as text, every attribute and text escaped.
public struct SVGDocument {
    public var width: Double
    public var height: Double
    var body: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    static func n(_ v: Double) -> String { String(format: "%.1f", v) }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#333",
                              width: Double = 1, dash: String? = nil) {
        body.append("""
            <line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" \
            stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>
            """)
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, title: String? = nil) {
        let t = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        body.append("<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(max(w, 0)))\" height=\"\(Self.n(max(h, 0)))\" fill=\"\(fill)\">\(t)</rect>")
    }

    public mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, title: String? = nil) {
        let t = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        body.append("<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(r))\" fill=\"\(fill)\">\(t)</circle>")
    }

    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let p = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
        body.append("""
            <polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>
            """)
    }

    public enum Anchor: String { case start, middle, end }

    public mutating func text(_ s: String, _ x: Double, _ y: Double, size: Double = 12, anchor: Anchor = .start,
                              weight: String = "normal", fill: String = "#222", rotate: Double? = nil) {
        let r = rotate.map { " transform=\"rotate(\(Self.n($0)) \(Self.n(x)) \(Self.n(y)))\"" } ?? ""
        body.append("""
            <text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor.rawValue)\" font-weight=\"\(weight)\" \
            fill=\"\(fill)\"\(r)>\(Self.escape(s))</text>
            """)
    }

    /// The font list: a plot with Chinese text names the CJK fonts first, so its glyphs (and the Latin
    /// ones beside them) come from one font; an English plot starts with the Latin fonts.
    var fontFamily: String {
        let cjk = "Noto Sans CJK SC, WenQuanYi Micro Hei, PingFang SC, Microsoft YaHei", latin = "DejaVu Sans, Helvetica, Arial"
        let chinese = body.contains { $0.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }
        return (chinese ? "\(cjk), \(latin)" : "\(latin), \(cjk)") + ", sans-serif"
    }

    public var text: String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.n(width))" height="\(Self.n(height))" viewBox="0 0 \(Self.n(width)) \(Self.n(height))" \
        font-family="\(fontFamily)">
        <rect x="0" y="0" width="\(Self.n(width))" height="\(Self.n(height))" fill="#ffffff"/>
        \(body.joined(separator: "\n"))
        </svg>

        """
    }
}

/// Shared pieces of the plots.
public enum SVGPlots {
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    /// Every plot of this run: the switch-cost plot of every harness's kinds of switch (when the run has
    /// one of their rows), then the registered harnesses' own, in registry order.
    public static func files(for run: RunResult, lang: Language = .en) -> [Plot] {
        SwitchCostPlot.plot(run, lang: lang) + Registry.presenters.flatMap { $0.plots(run, lang: lang) }
    }

    /// A "nice" tick label for a time on a log axis.
    static func timeTick(_ ns: Double) -> String {
        switch ns {
        case ..<1000: return String(format: "%g ns", ns)
        case ..<1_000_000: return String(format: "%g µs", ns / 1e3)
        default: return String(format: "%g ms", ns / 1e6)
        }
    }
}
