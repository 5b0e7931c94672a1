import Foundation
import ReaperFuzzChecks

/// libFuzzer's runtime references this symbol even when the driver is used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzChecks.run(FuzzTarget.selected, Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}

enum FuzzTarget {
  /// Read once: the check runs millions of times.
  static let selected: FuzzChecks.Target = {
    let name = ProcessInfo.processInfo.environment["REAPER_FUZZ"] ?? ""
    guard let target = FuzzChecks.Target(rawValue: name) else {
      FileHandle.standardError.write(Data("set REAPER_FUZZ to cdcs, s3, pds or config\n".utf8))
      exit(2)
    }
    return target
  }()
}
