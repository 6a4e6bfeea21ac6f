/// GPT-2's reversible byte → printable-character map used by byte-level BPE.
///
/// Bytes that are already printable Latin-1 ('!'…'~', '¡'…'¬', '®'…'ÿ') map to themselves; the
/// other 68 bytes map, in increasing order, to U+0100, U+0101, …, so vocab.json never contains
/// whitespace or control characters.
enum ByteToUnicode {
    static let table: [Unicode.Scalar] = {
        var printable = Set<Int>()
        for range in [33...126, 161...172, 174...255] { printable.formUnion(range) }
        var next = 0
        return (0..<256).map { byte in
            if printable.contains(byte) { return Unicode.Scalar(UInt32(byte))! }
            defer { next += 1 }
            return Unicode.Scalar(UInt32(256 + next))!
        }
    }()

    static let inverse: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in table.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()
}
