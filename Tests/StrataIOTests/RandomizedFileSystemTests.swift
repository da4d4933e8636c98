#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataIO
import StrataTestSupport
import Testing

/// Seeded random tests: each prints its seed; set `STRATA_TEST_SEED` to replay.
@Suite struct RandomizedFileSystemTests {
    @Test func randomFileOperationsGiveTheSameResultsOnPOSIXAndFaultInjecting() throws {
        let seed = testSeed("POSIX vs fault FS")
        var generator = SeededGenerator(seed: seed)
        let names = ["a", "b", "c"]
        try withFileSystem(.posix) { posix, posixRoot in
            try withFileSystem(.faultInjecting) { fault, faultRoot in
                var posixFiles: [String: any StorageFile] = [:]
                var faultFiles: [String: any StorageFile] = [:]
                for name in names {
                    posixFiles[name] = try posix.open(joinPath(posixRoot, name), mode: .create)
                    faultFiles[name] = try fault.open(joinPath(faultRoot, name), mode: .create)
                }
                for step in 0..<2_000 {
                    let name = names.randomElement(using: &generator)!
                    let p = posixFiles[name]!, f = faultFiles[name]!
                    let context: Comment = "seed \(seed), step \(step), file \(name)"
                    switch Int.random(in: 0..<10, using: &generator) {
                    case 0..<5:
                        let offset = UInt64.random(in: 0...3_000, using: &generator)
                        let data = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                            UInt8.random(in: 0...255, using: &generator)
                        }
                        try p.write(at: offset, data)
                        try f.write(at: offset, data)
                    case 5:
                        let length = UInt64.random(in: 0...3_000, using: &generator)
                        try p.truncate(to: length)
                        try f.truncate(to: length)
                    case 6..<9:
                        let offset = UInt64.random(in: 0...3_500, using: &generator)
                        let count = Int.random(in: 0...500, using: &generator)
                        var pb = [UInt8](repeating: 0, count: count), fb = pb
                        let pn = try pb.withUnsafeMutableBytes { try p.read(at: offset, into: $0) }
                        let fn = try fb.withUnsafeMutableBytes { try f.read(at: offset, into: $0) }
                        #expect(pn == fn, context)
                        #expect(pb == fb, context)
                    default:
                        let size = try p.size()
                        #expect(try f.size() == size, context)
                        let offset = UInt64.random(in: 0...(size + 10), using: &generator)
                        let length = Int.random(in: 0...600, using: &generator)
                        func mapped(_ file: any StorageFile) -> Result<[UInt8], any Error> {
                            Result {
                                let region = try file.map(offset: offset, length: length)
                                return region.withUnsafeBytes { Array($0) }
                            }
                        }
                        let pm = mapped(p), fm = mapped(f)
                        switch (pm, fm) {
                        case (.success(let a), .success(let b)): #expect(a == b, context)
                        case (.failure(let a as IOError), .failure(let b as IOError)):
                            #expect(a.code == b.code, context)
                        default: Issue.record("map results differ: \(pm) vs \(fm); \(context)")
                        }
                    }
                }
                for name in names {
                    #expect(
                        try posixFiles[name]!.readAll() == faultFiles[name]!.readAll(), "seed \(seed), file \(name)")
                }
            }
        }
    }

    @Test func aRandomWorkloadKeepsExactlyWhatWasSyncedAcrossPowerLosses() throws {
        let seed = testSeed("power loss model")
        var generator = SeededGenerator(seed: seed)
        let fs = makeFaultFS()
        let names = ["wal", "seg", "meta"]
        // The model: what each file must hold after a power loss.
        var durable: [String: [UInt8]] = [:]
        var current: [String: [UInt8]] = [:]
        var entryDurable: Set<String> = []
        var entryCurrent: Set<String> = []
        var handles: [String: any StorageFile] = [:]
        func apply(_ data: [UInt8], at offset: Int, to bytes: inout [UInt8]) {
            if bytes.count < offset { bytes += [UInt8](repeating: 0, count: offset - bytes.count) }
            for (i, byte) in data.enumerated() {
                if offset + i < bytes.count { bytes[offset + i] = byte } else { bytes.append(byte) }
            }
        }
        for round in 0..<30 {
            for step in 0..<60 {
                let name = names.randomElement(using: &generator)!
                let path = "/db/\(name)"
                let context: Comment = "seed \(seed), round \(round), step \(step)"
                if handles[name] == nil {
                    handles[name] = try fs.open(path, mode: .create)
                    if !entryCurrent.contains(name) {
                        entryCurrent.insert(name)
                        current[name] = []
                        durable[name] = []
                    }
                }
                let file = handles[name]!
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<6:
                    let offset = Int.random(in: 0...200, using: &generator)
                    let data = (0..<Int.random(in: 1...40, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                    try file.write(at: UInt64(offset), data)
                    apply(data, at: offset, to: &current[name]!)
                case 6:
                    let length = Int.random(in: 0...150, using: &generator)
                    try file.truncate(to: UInt64(length))
                    if length < current[name]!.count {
                        current[name]!.removeSubrange(length...)
                    } else {
                        current[name]! += [UInt8](repeating: 0, count: length - current[name]!.count)
                    }
                case 7, 8:
                    if Bool.random(using: &generator) { try file.sync() } else { try file.dataSync() }
                    durable[name] = current[name]
                default:
                    try fs.syncDirectory("/db")
                    entryDurable = entryCurrent
                }
                #expect(try file.readAll() == current[name]!, context)
            }
            fs.simulatePowerLoss()
            handles.removeAll()
            entryCurrent = entryDurable
            #expect(try fs.listDirectory("/db") == entryDurable.sorted(), "seed \(seed), round \(round)")
            for name in names {
                if entryDurable.contains(name) {
                    #expect(try contents(fs, "/db/\(name)") == durable[name]!, "seed \(seed), round \(round), \(name)")
                    current[name] = durable[name]
                } else {
                    current[name] = nil
                    durable[name] = nil
                }
            }
        }
    }
}
