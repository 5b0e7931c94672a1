import Foundation
import ReaperCore
import Testing

/// The daemon's log lines through a real, private systemd-journald, read back with `journalctl -o json`.
@Suite("Journal")
struct JournalTests {
  @Test func eventsArriveWithTheirMessageIDsAndReaperFields() async throws {
    let setup = try await EndToEndTests.start()
    defer { Task { await setup.server.stop() } }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)").path
    // Its own mount namespace: fresh socket and storage directories and a quiet journald.conf shadow the host's,
    // so nothing reaches or depends on a journald the machine may or may not run.
    let script = """
      set -e
      d=\(directory)
      mkdir -p "$d/journal" "$d/log" /run/systemd/journal /run/log
      printf '[Journal]\\nStorage=volatile\\nReadKMsg=no\\nForwardToSyslog=no\\nForwardToWall=no\\nForwardToConsole=no\\nRateLimitBurst=0\\n' > "$d/journald.conf"
      mount --bind "$d/journal" /run/systemd/journal
      mount --bind "$d/log" /run/log
      mount --bind "$d/journald.conf" /etc/systemd/journald.conf
      /lib/systemd/systemd-journald & journald=$!
      for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
      JOURNAL_STREAM=8:12345 SWIFT_BACKTRACE=enable=no "\(CLITests.binary)" run --config "\(setup.config)" & daemon=$!
      for i in $(seq 100); do
        journalctl -D "$d/log/journal" MESSAGE_ID=\(ReaperEvent.cycleFinished.messageID) -o cat 2>/dev/null | grep -q . && break
        sleep 0.1
      done
      kill -TERM $daemon; wait $daemon || true
      kill $journald; wait $journald 2>/dev/null || true
      journalctl -D "$d/log/journal" -o json --no-pager
      """
    let result = try await CLITests.run([
      "__shell__",
      "unshare --mount --propagation private sh -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let entries = result.stdout.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
    let ours = entries.filter { $0["SYSLOG_IDENTIFIER"] as? String == "upload-reaper" }
    #expect(!ours.isEmpty, "no entries: \(result.stderr.suffix(400))")
    let finished = ours.filter { $0["MESSAGE_ID"] as? String == ReaperEvent.cycleFinished.messageID }
    #expect(finished.count == 1)
    let aborted = ours.filter { $0["MESSAGE_ID"] as? String == ReaperEvent.uploadAborted.messageID }
    #expect(Set(aborted.compactMap { $0["REAPER_UPLOAD_ID"] as? String }) == EndToEndTests.expectedAborts)
    let sample = try #require(aborted.first { $0["REAPER_UPLOAD_ID"] as? String == "stale-cjk" })
    #expect(sample["REAPER_TARGET"] as? String == "sandbox")
    #expect(sample["REAPER_BUCKET"] as? String == "e2e-1250000000")
    #expect(sample["REAPER_KEY"] as? String == "tmp/上传 文件+1.bin")
    #expect(sample["REAPER_RULE"] as? String == "tmp-abort")
    #expect(sample["REAPER_ACTION"] as? String == "abort")
    #expect((sample["REAPER_AGE_SECONDS"] as? String).flatMap(Int.init).map { $0 > 4 * 86_400 } == true)
    #expect(sample["PRIORITY"] as? String == "5")
    #expect((sample["CODE_FILE"] as? String)?.hasSuffix("Cycle.swift") == true)
    #expect(sample["CODE_LINE"] != nil && sample["CODE_FUNC"] != nil)
    let reported = ours.filter { $0["MESSAGE_ID"] as? String == ReaperEvent.uploadReported.messageID }
    #expect(reported.compactMap { $0["REAPER_UPLOAD_ID"] as? String } == ["report-me"])
    #expect(!result.stdout.contains(EndToEndTests.secret))
  }
}
