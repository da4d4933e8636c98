import StrataBinary

extension SegmentReader {
    /// Checks everything: the checks of `open` again (in case the file changed
    /// since), the checksum of every section (vector data, payload blocks and
    /// ancillary sections included), every payload block (its CRC, decompression to
    /// exactly its raw size, its entry table, each entry one JSON object with nothing
    /// after it), and that the rows of absent vectors are zero.
    ///
    /// - Returns: every problem found, each a `SegmentError` (`.corruption`) naming
    ///   the file, the section and, for payload blocks, the block; empty when the
    ///   segment is sound. Does not stop at the first problem.
    /// - Complexity: reads and checksums the whole file and decompresses every
    ///   payload block: O(file size). Blocking; keep it off the cooperative pool.
    public func verifyAll() -> [SegmentError] {
        var problems: [SegmentError] = []
        do {
            _ = try SegmentLayout.parse(mappedBytes, file: path)
        } catch {
            problems.append(error)
        }
        for section in layout.sections {
            let name = section.displayName
            guard !problems.contains(where: { $0.section == name }) else { continue }
            if SegmentFormat.maskedCRC(mappedBytes.slice(section.offset, section.length)) != section.crc {
                problems.append(.corruption(path, name, "checksum mismatch"))
            }
        }
        for b in layout.blocks.indices {
            if let problem = verifyBlock(b) { problems.append(problem) }
        }
        // Sparse sections: their structure (checksums were checked above).
        for name in sparseVectorNames {
            guard
                !problems.contains(where: {
                    $0.section == "sparse[\(name)].vectors" || $0.section == "sparse[\(name)].index"
                })
            else { continue }
            do {
                _ = try sparseSections(name)
            } catch {
                problems.append(error)
            }
        }
        for vector in layout.vectors {
            let name = vector.spec.name
            // One problem per section: a data section whose checksum already
            // failed is not reported again for a non-zero absent row.
            guard !problems.contains(where: { $0.section == "vectors[\(name)].data" }) else { continue }
            let rowBytes = vector.spec.datatype.bytesPerElement * vector.spec.dimension
            for offset in 0..<layout.pointCount
            where mappedBytes[vector.presenceOffset + offset >> 3] & (1 << UInt8(offset & 7)) == 0 {
                let row = mappedBytes.slice(vector.dataOffset + rowBytes * offset, rowBytes)
                if !row.allSatisfy({ $0 == 0 }) {
                    problems.append(
                        .corruption(
                            path, "vectors[\(name)].data",
                            "the row of point offset \(offset), which has no such vector, is not zero"))
                    break
                }
            }
        }
        return problems
    }

    /// Checks the checksums of the vector data sections only: the bytes a
    /// merge copies (payload blocks are checked as they are read, the small
    /// sections at open). O(vector bytes), no allocation.
    ///
    /// - Returns: one `.corruption` error per section that fails, naming the
    ///   file and the section; empty when they are sound.
    public func verifyVectorData() -> [SegmentError] {
        layout.sections.filter { $0.kind == .vectorData || $0.kind == .multiVectorData }.compactMap { section in
            SegmentFormat.maskedCRC(mappedBytes.slice(section.offset, section.length)) == section.crc
                ? nil : .corruption(path, section.displayName, "checksum mismatch")
        }
    }

    /// The first problem of payload block `b`, or nil.
    private func verifyBlock(_ b: Int) -> SegmentError? {
        do {
            let raw = try decodeBlock(b)
            let points = layout.pointRange(ofBlock: b)
            return raw.withUnsafeBytes { raw -> SegmentError? in
                for j in 0..<points.count {
                    let range = PayloadBlock.entryRange(raw, pointCount: points.count, entry: j)
                    do {
                        _ = try PayloadBlock.decodeEntry(raw.slice(range.lowerBound, range.count))
                    } catch {
                        return blockError(
                            b, "the payload of point offset \(points.lowerBound + j) does not decode: \(error)")
                    }
                }
                return nil
            }
        } catch {
            return error
        }
    }
}
