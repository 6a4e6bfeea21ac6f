import Foundation

/// Decimal number parsing that accepts only what a person means by a number.
///
/// `Double(_:)` also accepts "nan", "inf" and hexadecimal floats ("0x1p3"); input from files and flags must
/// not turn into those silently. The grammar is `digits[.digits][(e|E)[+|-]digits]` (or `.digits…`), with an
/// optional leading sign.
enum StrictNumber {
    /// The length of the longest number prefix of `bytes`, 0 when there is none.
    static func prefixLength(_ bytes: ArraySlice<UInt8>) -> Int {
        var i = bytes.startIndex
        let end = bytes.endIndex
        if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < end, isDigit(bytes[i]) { i += 1; digits += 1 }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            var j = i + 1
            var fraction = 0
            while j < end, isDigit(bytes[j]) { j += 1; fraction += 1 }
            if digits + fraction > 0 {
                i = j
                digits += fraction
            }
        }
        guard digits > 0 else { return 0 }
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            var j = i + 1
            if j < end, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            var exponent = 0
            while j < end, isDigit(bytes[j]) { j += 1; exponent += 1 }
            if exponent > 0 { i = j }
        }
        return i - bytes.startIndex
    }

    /// The value of `text` when all of it (after trimming spaces) is a finite number, else nil.
    static func parse<S: StringProtocol>(_ text: S) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let bytes = Array(trimmed.utf8)
        guard !bytes.isEmpty, prefixLength(bytes[...]) == bytes.count,
            let value = Double(trimmed), value.isFinite
        else { return nil }
        return value
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> Double? {
        guard !bytes.isEmpty, prefixLength(bytes) == bytes.count,
            let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite
        else { return nil }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
