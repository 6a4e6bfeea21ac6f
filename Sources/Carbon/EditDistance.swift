/// Levenshtein distance, used to suggest the names closest to a mistyped one.
public enum EditDistance {
    /// The number of single-character insertions, deletions and substitutions that turn `a` into `b`.
    public static func between(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// Up to `limit` candidates nearest to `query` (case-insensitive), nearest first, ties in input order.
    ///
    /// Candidates within a third of the query's length (at least 2 edits) come first; when none is that
    /// close, the nearest few are still returned so an error can always offer something.
    public static func closest(to query: String, in candidates: [String], limit: Int) -> [String] {
        let q = query.lowercased()
        let scored = candidates.enumerated().map { (offset, name) in
            (between(q, name.lowercased()), offset, name)
        }
        let sorted = scored.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        let threshold = max(2, q.count / 3)
        let near = sorted.filter { $0.0 <= threshold }
        return Array((near.isEmpty ? sorted : near).prefix(limit)).map { $0.2 }
    }
}
