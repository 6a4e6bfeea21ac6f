/// GPT-2's pre-tokenisation, written out by hand instead of with a regex engine.
///
/// Equivalent to the pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// tried left to right at each position: contractions, an optional single space followed by a run
/// of letters, of digits, or of other symbols, then whitespace runs that leave their last space to
/// the following word.
enum PreTokenizer {
    enum Class { case letter, number, space, other }

    @inline(__always)
    static func classify(_ s: Unicode.Scalar) -> Class {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Splits `text` into pre-tokens (substrings whose concatenation is `text`).
    static func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(classify)
        let n = scalars.count
        var pieces: [String] = []
        var i = 0
        func emit(_ end: Int) {
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[i..<end])
            pieces.append(String(piece))
            i = end
        }
        while i < n {
            if let end = contraction(scalars, at: i) { emit(end); continue }
            let kind = classes[i]
            if kind != .space {
                var end = i + 1
                while end < n, classes[end] == kind { end += 1 }
                emit(end)
                continue
            }
            if scalars[i] == " ", i + 1 < n, classes[i + 1] != .space {
                let lead = classes[i + 1]
                var end = i + 2
                while end < n, classes[end] == lead { end += 1 }
                emit(end)
                continue
            }
            var end = i
            while end < n, classes[end] == .space { end += 1 }
            emit(end < n && end - i > 1 ? end - 1 : end)
        }
        return pieces
    }

    /// End index of a contraction ('s 't 're 've 'm 'll 'd) starting at `i`, if any.
    static func contraction(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        let a = s[i + 1]
        if a == "s" || a == "t" || a == "m" || a == "d" { return i + 2 }
        if i + 2 < s.count {
            let b = s[i + 2]
            if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return i + 3 }
        }
        return nil
    }
}
