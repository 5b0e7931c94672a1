import Foundation
import ReaperConfig
import ReaperCore
import ReaperWire

/// What the fuzzers feed arbitrary bytes to. Each must return (with a value or an error) for every input:
/// a crash, a hang or a runaway allocation is a bug. Shared by the fuzzer and the regression tests.
public enum FuzzChecks {
  public enum Target: String, CaseIterable, Sendable {
    case cdcs, s3, pds, config
  }

  public static func run(_ target: Target, _ bytes: [UInt8]) {
    switch target {
    case .cdcs: cdcs(bytes)
    case .s3: s3(bytes)
    case .pds: pds(bytes)
    case .config: config(bytes)
    }
  }

  /// The CDCS JSON list and parts decoders, under both zones that matter.
  public static func cdcs(_ bytes: [UInt8]) {
    sameAsFoundation(bytes)
    for zone in [Zone.utc, .fixed(secondsEast: 28_800)] {
      if let page = try? CDCSDecoder.decodeList(bytes, zone: zone) {
        // Whatever decoded must be usable downstream without trapping.
        for entry in page.entries {
          _ = Timestamp.formatRFC3339(entry.initiated)
          trustworthy(key: entry.key, uploadID: entry.uploadID, initiated: entry.initiated)
        }
      }
      if let page = try? CDCSDecoder.decodeParts(bytes, zone: zone) { timed(page.parts) }
    }
    _ = ErrorBody.parse(bytes)
  }

  /// Wherever both the reaper's JSON parser and Foundation's JSONDecoder read an input, they must read the same
  /// value. Only one may accept malformed numbers: JSONDecoder takes `5.0....` as 5 and refuses `0e1`; the
  /// parser follows RFC 8259 in both.
  public static func sameAsFoundation(_ bytes: [UInt8]) {
    guard let fast = try? LooseJSON.parse(bytes), let reference = try? LooseJSON.parseWithFoundation(bytes) else {
      return
    }
    if fast != reference {
      fatalError(
        "LooseJSON.parse disagrees with JSONDecoder: \(String(describing: fast)) vs \(String(describing: reference))")
    }
  }

  /// The S3 XML list and parts decoders.
  public static func s3(_ bytes: [UInt8]) {
    if let page = try? S3Decoder.decodeList(bytes) {
      for entry in page.entries {
        _ = Timestamp.formatRFC3339(entry.initiated)
        trustworthy(key: entry.key, uploadID: entry.uploadID, initiated: entry.initiated)
      }
    }
    if let page = try? S3Decoder.decodeParts(bytes) { timed(page.parts) }
    if let reading = try? S3LifecycleDecoder.decode(bytes) {
      // Only days a lifecycle may really say are compared; the rest are problems, never sweeps.
      guard reading.sweeps.count <= S3LifecycleDecoder.maximumRules,
        reading.sweeps.allSatisfy({ (1...ServerSweep.maximumDays).contains($0.days) })
      else { fatalError("lifecycle sweeps out of bounds: \(reading.sweeps)") }
      let rule = Rule(name: "fuzz", maxAge: TimeSpan(seconds: TimeSpan.maximumSeconds), action: .abort)
      for conflict in ServerSweepCheck.conflicts(rules: [rule], sweeps: reading.sweeps) { _ = conflict.description }
    }
    _ = ErrorBody.parse(bytes)
  }

  /// A record a decoder hands on may be decided on: it can be addressed and its start is a plausible time.
  static func trustworthy(key: String, uploadID: String, initiated: Date) {
    if key.isEmpty || uploadID.isEmpty || !Plausible.time(initiated) {
      fatalError("a decoder accepted an untrustworthy record: key \"\(key)\", upload \"\(uploadID)\", \(initiated)")
    }
  }

  /// Every part of a provider that keeps a time per part has a plausible time, or says why it has none.
  static func timed(_ parts: [Part]) {
    for part in parts where part.lastModified.map({ !Plausible.time($0) }) ?? (part.unreadableTime == nil) {
      fatalError("part \(part.number) has neither a plausible LastModified nor an unreadable one")
    }
  }

  /// The PDS JSON decoders: a listing page, a file, a parts page, and error bodies in either spelling.
  public static func pds(_ bytes: [UInt8]) {
    sameAsFoundation(bytes)
    if let page = try? PDSDecoder.decodeList(bytes) {
      for item in page.items {
        for stamp in [item.createdAt, item.updatedAt] {
          if case .date(let date) = stamp { _ = Timestamp.formatRFC3339(date) }
        }
        _ = item.name?.utf8.count
      }
    }
    _ = try? PDSDecoder.decodeFile(bytes)
    if let page = try? PDSDecoder.decodeParts(bytes) {
      // Sizes from a hostile server must add up without trapping.
      var summary = PartsSummary()
      for part in page.parts { summary.add(part) }
      for _ in 0..<3 { for part in page.parts { summary.add(part) } }
    }
    _ = ErrorBody.parse(bytes)
  }

  /// The config loader, on arbitrary text, with no environment.
  public static func config(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? ConfigLoader.parse(source: text, path: "/nonexistent/fuzz.toml", environment: [:])
    _ = try? TimeSpan.parse(text)
    _ = Timestamp.parse(text, zone: .utc)
    _ = ByteCount.parse(text)
  }
}
