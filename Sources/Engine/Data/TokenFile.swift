import Foundation

/// Element type of a raw token file.
public enum TokenDType: String, CaseIterable, Sendable, Codable {
    case u16, u32
}

/// Reads pre-tokenised evaluation data: raw little-endian uint16/uint32 ids, or a 1-D `.npy` array.
public enum TokenFile {
    /// Token ids from `path`. A `.npy` file describes its own dtype ('<u2', '<u4', '<i4', '<i8');
    /// any other file is raw little-endian ids of `dtype`.
    /// - Throws: `fileUnreadable`, or `tokenFileMalformed` naming what is wrong and how to fix it.
    public static func load(path: String, dtype: TokenDType = .u16) throws -> [Int32] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EngineError.fileUnreadable(path, "read failed") }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x93] + Array("NUMPY".utf8)) { return try parseNPY(bytes, path: path) }
        return try decode(bytes[...], descr: dtype == .u16 ? "<u2" : "<u4", path: path)
    }

    static func malformed(_ path: String, _ problem: String, _ fix: String) -> EngineError {
        EngineError(.tokenFileMalformed, "token file '\(path)': \(problem)", fix: fix)
    }

    static func parseNPY(_ bytes: [UInt8], path: String) throws -> [Int32] {
        guard bytes.count >= 10 else { throw malformed(path, "truncated .npy header", "re-save it with numpy.save") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw malformed(path, "truncated .npy header", "re-save it with numpy.save") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else {
            throw malformed(path, "truncated .npy header", "re-save it with numpy.save")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = quotedValue(after: "'descr':", in: header) else {
            throw malformed(path, "no 'descr' in the .npy header", "re-save it with numpy.save")
        }
        if header.contains("'fortran_order': True") {
            throw malformed(path, "Fortran-ordered array", "save a C-ordered 1-D array")
        }
        guard let shapeStart = header.range(of: "'shape':"),
            let open = header[shapeStart.upperBound...].firstIndex(of: "("),
            let close = header[open...].firstIndex(of: ")")
        else {
            throw malformed(path, "no 'shape' in the .npy header", "re-save it with numpy.save")
        }
        let dims = header[header.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        guard dims.count == 1, let count = Int(dims[0]) else {
            throw malformed(path, "array has shape (\(dims.joined(separator: ", "))), not 1-D", "flatten it to a 1-D array of token ids")
        }
        let ids = try decode(bytes[(headerStart + headerLength)...], descr: descr, path: path)
        guard ids.count == count else {
            throw malformed(path, "header says \(count) ids but the data holds \(ids.count)", "re-save it with numpy.save")
        }
        return ids
    }

    static func quotedValue(after key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: key) else { return nil }
        let rest = header[keyRange.upperBound...]
        guard let first = rest.firstIndex(of: "'") else { return nil }
        let afterFirst = rest.index(after: first)
        guard let second = rest[afterFirst...].firstIndex(of: "'") else { return nil }
        return String(rest[afterFirst..<second])
    }

    static func decode(_ payload: ArraySlice<UInt8>, descr: String, path: String) throws -> [Int32] {
        let width: Int
        switch descr {
        case "<u2": width = 2
        case "<u4", "<i4": width = 4
        case "<i8": width = 8
        default: throw malformed(path, "dtype '\(descr)' is not supported", "store ids as '<u2', '<u4', '<i4' or '<i8'")
        }
        guard payload.count % width == 0 else {
            throw malformed(
                path, "\(payload.count) bytes is not a whole number of \(width)-byte ids", "check --dtype (u16 or u32) matches the file")
        }
        let count = payload.count / width
        var ids = [Int32](repeating: 0, count: count)
        try payload.withUnsafeBytes { raw in
            for i in 0..<count {
                let value: Int64
                switch descr {
                case "<u2": value = Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case "<u4": value = Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case "<i4": value = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                default: value = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                }
                guard value >= 0, value <= Int64(Int32.max) else {
                    throw malformed(
                        path, "id \(value) at position \(i) is negative or too large", "check the dtype and that the file holds token ids")
                }
                ids[i] = Int32(value)
            }
        }
        return ids
    }
}
