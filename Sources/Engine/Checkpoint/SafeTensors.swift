import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// One tensor entry of a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    public let dtype: String
    public let shape: [Int]
    /// Byte range inside the data section (after the header).
    public let begin: Int
    public let end: Int
}

/// Reader for the safetensors format: 8-byte little-endian header length, a JSON header mapping
/// names to {dtype, shape, data_offsets}, then raw little-endian data. `__metadata__` is a string map.
///
/// The header is validated against the file size up front, so a truncated file fails with a typed
/// error before any tensor is read; tensors are then read with `pread` straight into their views.
public final class SafeTensorsFile {
    public let path: String
    public let entries: [String: SafeTensorsEntry]
    public let metadata: [String: String]
    private let dataStart: Int
    private let descriptor: Int32

    /// - Throws: `fileUnreadable`, `checkpointTruncated` or `checkpointMalformed`.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw EngineError.fileUnreadable(path, String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw EngineError.fileUnreadable(path, String(cString: strerror(errno)))
        }
        let fileSize = Int(info.st_size)
        descriptor = fd
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        guard fileSize >= 8, pread(fd, &lengthBytes, 8, 0) == 8 else {
            close(fd)
            throw EngineError.checkpointTruncated(path, needed: 8, actual: fileSize)
        }
        // Compared as UInt64 first: a length ≥ 2⁶³ (any file whose 8th byte is ≥ 0x80) must not trap in Int().
        let rawLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard rawLength > 1, rawLength < 100_000_000 else {
            close(fd)
            throw EngineError.checkpointMalformed(path, "header length \(rawLength) is implausible")
        }
        let headerLength = Int(rawLength)
        guard 8 + headerLength <= fileSize else {
            close(fd)
            throw EngineError.checkpointTruncated(path, needed: 8 + headerLength, actual: fileSize)
        }
        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        guard pread(fd, &headerBytes, headerLength, 8) == headerLength,
            let json = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any]
        else {
            close(fd)
            throw EngineError.checkpointMalformed(path, "header is not a JSON object")
        }
        dataStart = 8 + headerLength
        var entries: [String: SafeTensorsEntry] = [:]
        var metadata: [String: String] = [:]
        var furthest = 0
        for (name, value) in json {
            if name == "__metadata__" {
                for (key, item) in value as? [String: Any] ?? [:] { metadata[key] = item as? String }
                continue
            }
            guard let object = value as? [String: Any], let dtype = object["dtype"] as? String,
                let shape = (object["shape"] as? [NSNumber])?.map({ $0.intValue }),
                let offsets = (object["data_offsets"] as? [NSNumber])?.map({ $0.intValue }), offsets.count == 2,
                offsets[0] >= 0, offsets[1] >= offsets[0], shape.allSatisfy({ $0 >= 0 })
            else {
                close(fd)
                throw EngineError.checkpointMalformed(path, "entry '\(name)' lacks a valid dtype, shape or data_offsets")
            }
            // Sizes are checked with overflow detection for every dtype: a forged shape or offset must be an error,
            // never an arithmetic trap or a read past the end of the file.
            var elements = 1
            var overflow = false
            for d in shape {
                let (product, o) = elements.multipliedReportingOverflow(by: d)
                elements = product
                overflow = overflow || o
            }
            let byteSize = Self.bytesPerElement[dtype].map { elements.multipliedReportingOverflow(by: $0) }
            if overflow || byteSize?.overflow == true
                || (byteSize.map { offsets[1] - offsets[0] != $0.partialValue } ?? false)
            {
                close(fd)
                throw EngineError.checkpointMalformed(
                    path, "entry '\(name)' has \(offsets[1] - offsets[0]) bytes for dtype \(dtype) and shape \(shape)")
            }
            furthest = max(furthest, offsets[1])
            entries[name] = SafeTensorsEntry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        guard furthest <= fileSize - dataStart else {
            close(fd)
            throw EngineError.checkpointTruncated(
                path, needed: furthest > Int.max - dataStart ? Int.max : dataStart + furthest, actual: fileSize)
        }
        self.entries = entries
        self.metadata = metadata
    }

    deinit { close(descriptor) }

    /// Element sizes of the safetensors dtypes, for checking every entry's byte range against its shape.
    static let bytesPerElement: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
    ]

    /// Reads tensor `name` into `destination` (exactly its element count) as Float: F32 as stored, BF16 and F16 widened
    /// exactly (every value of either fits a Float), which is how most published Llama and Mixtral weights come.
    /// - Throws: `unsupportedDType` for other dtypes, `fileUnreadable` on a short read.
    public func read(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard let entry = entries[name] else { preconditionFailure("read of absent tensor \(name)") }
        switch entry.dtype {
        case "F32":
            precondition(destination.count * 4 == entry.end - entry.begin)
            try readBytes(name, entry, into: UnsafeMutableRawPointer(destination.baseAddress!))
        case "BF16", "F16":
            precondition(destination.count * 2 == entry.end - entry.begin)
            let halves = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: destination.count)
            defer { halves.deallocate() }
            try readBytes(name, entry, into: UnsafeMutableRawPointer(halves.baseAddress!))
            if entry.dtype == "BF16" {
                for i in 0..<destination.count { destination[i] = Float(bitPattern: UInt32(UInt16(littleEndian: halves[i])) << 16) }
            } else {
                for i in 0..<destination.count { destination[i] = Float(Float16(bitPattern: UInt16(littleEndian: halves[i]))) }
            }
        default:
            throw EngineError(
                .unsupportedDType, "tensor '\(name)' in '\(path)' is \(entry.dtype); the engine reads F32, BF16 and F16",
                fix: "convert the checkpoint to float32 (e.g. model.float() before saving)")
        }
    }

    private func readBytes(_ name: String, _ entry: SafeTensorsEntry, into raw: UnsafeMutableRawPointer) throws {
        var done = 0
        let total = entry.end - entry.begin
        while done < total {
            let got = pread(descriptor, raw + done, min(total - done, 1 << 30), off_t(dataStart + entry.begin + done))
            guard got > 0 else { throw EngineError.fileUnreadable(path, "short read in tensor '\(name)'") }
            done += got
        }
    }
}

/// Writer for safetensors files (F32 only), tensors laid out in the order given.
public enum SafeTensorsWriter {
    /// Writes `tensors` and `metadata` to `path` atomically (temporary file, then rename).
    /// - Throws: `fileUnwritable`.
    public static func write(
        path: String, tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)],
        metadata: [String: String]
    ) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            precondition(tensor.shape.reduce(1, *) == tensor.data.count, "shape does not match data for \(tensor.name)")
            let bytes = tensor.data.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else {
            throw EngineError.fileUnwritable(path, "header could not be encoded")
        }
        while json.count % 8 != 0 { json.append(0x20) }
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw EngineError.fileUnwritable(path, String(cString: strerror(errno))) }
        func put(_ pointer: UnsafeRawPointer, _ count: Int) throws {
            var done = 0
            while done < count {
                let wrote = Glibc.write(fd, pointer + done, min(count - done, 1 << 30))
                guard wrote > 0 else {
                    close(fd)
                    unlink(temporary)
                    throw EngineError.fileUnwritable(path, String(cString: strerror(errno)))
                }
                done += wrote
            }
        }
        var length = UInt64(json.count).littleEndian
        try withUnsafeBytes(of: &length) { try put($0.baseAddress!, 8) }
        try json.withUnsafeBytes { try put($0.baseAddress!, json.count) }
        for tensor in tensors where tensor.data.count > 0 {
            try put(UnsafeRawPointer(tensor.data.baseAddress!), tensor.data.count * 4)
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw EngineError.fileUnwritable(path, String(cString: strerror(errno)))
        }
    }
}
