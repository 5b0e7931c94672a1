// The libFuzzer driver. Built only by scripts/fuzz (with -DFUZZING and -sanitize=fuzzer,address); an ordinary
// build gets a stub, since libFuzzer's runtime is not linked there. REAPER_FUZZ picks the check: cdcs, s3, pds, config.
import Foundation
import ReaperFuzzChecks

#if FUZZING
  @_silgen_name("LLVMFuzzerRunDriver")
  func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
  ) -> CInt

  var argumentCount = CommandLine.argc
  var arguments = CommandLine.unsafeArgv
  exit(
    runFuzzerDriver(&argumentCount, &arguments) { data, size in
      FuzzChecks.run(FuzzTarget.selected, Array(UnsafeRawBufferPointer(start: data, count: size)))
      return 0
    })
#else
  FileHandle.standardError.write(Data("reaper-fuzz: build it with scripts/fuzz\n".utf8))
  exit(2)
#endif
