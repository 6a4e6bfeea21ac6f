import Foundation

/// CPU model → TDP, shipped as data (`Data/cpu_tdp.csv`, built from Boavizta, Green Algorithms and CodeCarbon tables).
public struct CPUTDPTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var model: String
        public var tdpWatts: Double
        public var cores: Int?
        public var threads: Int?
        public var source: String
    }

    public let entries: [Entry]
    private let byKey: [String: Entry]

    public init(csv: String) {
        var entries: [Entry] = []
        for line in csv.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, let tdp = Double(f[1]) else { continue }
            entries.append(Entry(model: f[0], tdpWatts: tdp, cores: Int(f[2]), threads: Int(f[3]), source: f[4]))
        }
        self.entries = entries
        var byKey: [String: Entry] = [:]
        for e in entries {
            let key = Self.normalise(e.model)
            if byKey[key] == nil { byKey[key] = e }
        }
        self.byKey = byKey
    }

    public static let bundled: CPUTDPTable = {
        let url = Bundle.module.url(forResource: "cpu_tdp", withExtension: "csv")
        return CPUTDPTable(csv: url.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? "")
    }()

    /// `Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz` → `intel xeon gold 6148`; `AMD EPYC 7763 64-Core Processor` → `amd epyc 7763`.
    ///
    /// Runs over 5,200 table rows at every start, so it works on characters rather than through Foundation's
    /// locale-aware string search.
    static func normalise(_ model: String) -> String {
        var words: [String] = []
        var word = ""
        func endWord() {
            if !word.isEmpty && !noiseWords.contains(word) && !word.hasSuffix("-core") { words.append(word) }
            word = ""
        }
        var rest = Substring(model.lowercased())
        while let c = rest.first {
            if c == "@" { break }
            if c == "(", let marker = ["(r)", "(tm)"].first(where: { rest.hasPrefix($0) }) {
                endWord()
                rest = rest.dropFirst(marker.count)
                continue
            }
            if c == " " || c == "\t" || c == "®" || c == "™" { endWord() } else { word.append(c) }
            rest = rest.dropFirst()
        }
        endWord()
        return words.joined(separator: " ")
    }

    private static let noiseWords: Set<String> = ["cpu", "processor", "with", "radeon", "graphics"]

    /// Exact match on the normalised name, else the longest table name contained in it (e.g. a vendor prefix missing).
    public func lookup(_ model: String) -> Entry? {
        let key = Self.normalise(model)
        if let e = byKey[key] { return e }
        let words = key.split(separator: " ")
        // A bare family name ("amd epyc") must not match one model of the family: require a token with a digit.
        guard words.contains(where: { $0.contains(where: \.isNumber) }) else { return nil }
        var best: (Int, Entry)?
        for (k, e) in byKey where k.contains(where: \.isNumber) {
            let kw = k.split(separator: " ")
            guard kw.count >= 2, containsRun(words, kw) else { continue }
            if best == nil || kw.count > best!.0 { best = (kw.count, e) }
        }
        return best?.1
    }

    private func containsRun(_ hay: [Substring], _ needle: [Substring]) -> Bool {
        guard needle.count <= hay.count else { return false }
        for i in 0...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { return true }
        return false
    }
}
