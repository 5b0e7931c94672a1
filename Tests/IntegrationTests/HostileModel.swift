import Foundation
import ReaperCore
import ReaperProviders
import ReaperSandbox
import TestSupport

/// One random world for the hostile model test: a bucket (or drive) of uploads with parts, some finished PDS
/// files, rules, a true clock, and the lies the server tells about it. Everything follows from the seed.
struct HostileCase: CustomStringConvertible {
  let seed: UInt64
  let dialect: SandboxHostility.Dialect
  let now: Date
  let bucket: SandboxBucket
  let rules: [Rule]
  let minAge: TimeSpan
  let concurrency: Int
  let hostility: SandboxHostility

  static let prefixes = ["", "a/", "a/b/", "c/"]
  static let initiators: [String?] = [nil, "app-a", "app-a-2", "app-b", SandboxHostility.requester]
  static let hour: Int64 = 3600

  /// - Parameters:
  ///   - lies: the lies to switch on; nil draws one to three from those that make sense in the dialect.
  ///   - excluding: lies never drawn.
  init(
    seed: UInt64, dialect: SandboxHostility.Dialect, lies: Set<SandboxHostility.Lie>?,
    excluding: Set<SandboxHostility.Lie> = [], now: Date
  ) {
    var random = SplitMix64(seed: seed)
    func draw(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    self.seed = seed
    self.dialect = dialect
    self.now = now
    let day = 24 * Self.hour
    var uploads: [SandboxUpload] = []
    for index in 0..<(3 + draw(13)) {
      let age = Int64(random.next() % UInt64(30 * day))
      let initiated = now.addingTimeInterval(-TimeInterval(age))
      let parts = (0..<draw(5)).map { number in
        // Parts come after the start and before now, at whole seconds, as every dialect can write them.
        let after = age == 0 ? 0 : Int64(random.next() % UInt64(age + 1))
        let size = draw(4) == 0 ? Int64(draw(3) + 1) << 20 : Int64(draw(5000))
        return SandboxPart(
          number: number + 1, size: size, lastModified: initiated.addingTimeInterval(TimeInterval(after)))
      }
      let key = Self.prefixes[draw(Self.prefixes.count)] + "f\(index).bin"
      // Who started it (nil: the sandbox's usual account); PDS listings carry no initiator.
      let initiator = dialect == .pds ? nil : Self.initiators[draw(Self.initiators.count)]
      uploads.append(
        SandboxUpload(
          key: key, uploadID: "h\(seed)-\(dialect)-u\(index)", initiated: initiated, parts: parts,
          initiator: initiator))
    }
    let files = (0..<(dialect == .pds ? draw(4) : 0)).map { index in
      let created = now.addingTimeInterval(-TimeInterval(40 * day + Int64(draw(1000)) * Self.hour))
      return SandboxFile(
        key: Self.prefixes[draw(Self.prefixes.count)] + "done\(index).bin", size: Int64(draw(1 << 20)),
        created: created)
    }
    bucket = SandboxBucket(name: "h\(seed)-\(dialect)", uploads: uploads, files: files)
    minAge = TimeSpan(seconds: Int64(draw(24) + 1) * Self.hour)
    var prefixes = Self.prefixes
    prefixes.shuffle(using: &random)
    rules = (0..<(1 + draw(3))).map { index in
      let maxAge = draw(3) == 0 ? nil : TimeSpan(seconds: Int64(draw(480) + 1) * Self.hour)
      let maxIdle = maxAge == nil || draw(2) == 0 ? TimeSpan(seconds: Int64(draw(240) + 1) * Self.hour) : nil
      let actions: [RuleAction] = [.abort, .abort, .abort, .report, .log]
      // Now and then a rule by initiator: for one application, or for the requester a lying listing names.
      let initiator =
        dialect == .pds || draw(3) != 0 ? [] : [Glob(["app-a*", SandboxHostility.requester][draw(2)])]
      return Rule(
        name: "r\(index)", prefix: prefixes[index], maxAge: maxAge, maxIdle: maxIdle,
        minBytes: draw(3) == 0 ? Int64(draw(8000)) : nil, initiator: initiator, action: actions[draw(actions.count)])
    }
    concurrency = lies == [.slowDown] ? 1 : 1 + draw(4)
    var chosen = lies ?? []
    if lies == nil {
      let fitting = SandboxHostility.Lie.allCases.filter { $0.dialects.contains(dialect) && !excluding.contains($0) }
      for _ in 0..<(1 + draw(3)) { chosen.insert(fitting[draw(fitting.count)]) }
    }
    var hostility = SandboxHostility(lies: chosen, rate: [0.3, 0.5, 1.0][draw(3)], seed: seed)
    hostility.slowDownEvery = 7
    self.hostility = hostility
  }

  var description: String {
    let rules = rules.map {
      "\($0.name)[\($0.prefix.isEmpty ? "*" : $0.prefix)\($0.initiator.isEmpty ? "" : " by \($0.initiator[0])") \($0.action) age>\($0.maxAge.map(String.init(describing:)) ?? "-") idle>\($0.maxIdle.map(String.init(describing:)) ?? "-") bytes>=\($0.minBytes.map { "\($0)" } ?? "-")]"
    }
    return
      "seed \(seed) \(dialect) lies [\(hostility.lies.map(\.rawValue).sorted().joined(separator: ","))] rate \(hostility.rate) min_age \(minAge) rules \(rules.joined(separator: " ")) uploads \(bucket.uploads.count) files \(bucket.files.count) concurrency \(concurrency)"
  }
}

/// Which uploads may be aborted, from the true state and the true clock alone: the rules' meaning written out
/// again, apart from the engine's Policy.
enum HostileOracle {
  /// The rule that decides a key: the longest matching prefix, the first written among equals, passing over a
  /// rule by initiator that the upload's true initiator does not match.
  static func winner(_ rules: [Rule], key: String, initiator: String? = nil) -> Rule? {
    var best: Rule?
    for rule in rules
    where key.utf8.starts(with: rule.prefix.utf8)
      && rule.matchesIdentity(initiator: initiator ?? "sandbox", owner: "sandbox")
    {
      if best.map({ rule.prefix.utf8.count > $0.prefix.utf8.count }) ?? true { best = rule }
    }
    return best
  }

  static func abortable(_ world: HostileCase) -> Set<String> {
    var result: Set<String> = []
    for upload in world.bucket.uploads {
      guard let rule = winner(world.rules, key: upload.key, initiator: upload.initiator), rule.action == .abort
      else { continue }
      let age = world.now.timeIntervalSince(upload.initiated)
      guard age > Double(world.minAge.seconds) else { continue }
      if let maxAge = rule.maxAge, !(age > Double(maxAge.seconds)) { continue }
      if let maxIdle = rule.maxIdle {
        let newest = upload.parts.map(\.lastModified).max() ?? upload.initiated
        guard world.now.timeIntervalSince(max(newest, upload.initiated)) > Double(maxIdle.seconds) else { continue }
      }
      if let minBytes = rule.minBytes, minBytes > 0, upload.parts.reduce(0, { $0 + $1.size }) < minBytes { continue }
      // A rule on age alone is re-checked on the parts' dates alone (PDS parts carry none; there the decision
      // lists them): a part dated within the clocks' tolerance of the listing may be new, and keeps the upload.
      if world.dialect != .pds, rule.maxIdle == nil, (rule.minBytes ?? 0) <= 0,
        let newest = upload.parts.map(\.lastModified).max(),
        world.now.timeIntervalSince(newest) <= ClockCheck.tolerance
      {
        continue
      }
      result.insert(upload.uploadID)
    }
    return result
  }
}

/// The invariants one case must keep, whatever the server said.
enum HostileInvariants {
  /// Why a logged request addressed something other than one upload, or nil when it addressed one.
  static func misaddressed(_ request: SandboxLoggedRequest) -> String? {
    if request.path.hasPrefix("/v2/") {
      guard ["/v2/file/get", "/v2/file/delete", "/v2/file/list_uploaded_parts"].contains(request.path) else {
        return nil
      }
      guard let fields = try? LooseJSON.parse(Array(request.body.utf8)) else { return "unreadable body" }
      let fileID = fields["file_id"]?.text ?? ""
      if fileID.isEmpty || fileID == "root" { return "file_id \"\(fileID)\" names no file" }
      if request.path == "/v2/file/list_uploaded_parts", (fields["upload_id"]?.text ?? "").isEmpty {
        return "empty upload_id"
      }
      return nil
    }
    let parameters = request.query.split(separator: "&").map {
      $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    }
    let uploadID = parameters.first { $0.first == "uploadId" }.map { $0.count > 1 ? $0[1] : "" }
    guard request.method == "DELETE" || uploadID != nil else { return nil }
    if (uploadID ?? "").isEmpty { return "no upload id" }
    let decoded = URLEncoding.decode(request.path, plusIsSpace: false) ?? request.path
    let steps = decoded.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    let key = steps.dropFirst().joined(separator: "/")
    if key.isEmpty { return "empty key: the bucket itself" }
    if key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) {
      return "key \"\(key)\" has a dot segment, which a normalizing hop resolves to another path"
    }
    return nil
  }

  /// Every broken invariant, as lines to print; `exact` demands the oracle's set, not just a subset of it.
  static func check(
    _ world: HostileCase, aborted: [SandboxAbort], log: SandboxRequestLog, exact: Bool
  ) -> [String] {
    var problems: [String] = []
    let oracle = HostileOracle.abortable(world)
    let uploads = Dictionary(world.bucket.uploads.map { ($0.uploadID, $0) }, uniquingKeysWith: { first, _ in first })
    for abort in aborted where abort.uploadID.isEmpty {
      problems.append("finished file \(abort.key) (\(abort.fileID ?? "?")) deleted")
    }
    for abort in aborted where !abort.uploadID.isEmpty && !oracle.contains(abort.uploadID) {
      let upload = uploads[abort.uploadID]
      let parts = upload?.parts.map {
        "#\($0.number) \($0.size)B \(Int(world.now.timeIntervalSince($0.lastModified)))s ago"
      }
      problems.append(
        "false abort of \(abort.key) (\(abort.uploadID)): initiated \(upload.map { Int(world.now.timeIntervalSince($0.initiated)) } ?? -1)s ago, parts \(parts ?? [])"
      )
    }
    let ids = aborted.map(\.uploadID).filter { !$0.isEmpty }
    if Set(ids).count != ids.count { problems.append("an upload aborted twice") }
    // Stale or not, an upload the server misnamed (another bucket, key or upload id, or none) is not the one
    // the evidence was about.
    for abort in aborted where log.identityLies.contains(abort.uploadID) {
      problems.append("aborted \(abort.key) (\(abort.uploadID)) though the server misstated which upload it was")
    }
    for request in log.requests {
      if let why = misaddressed(request) {
        problems.append("\(request.method) \(request.path)?\(request.query) \(request.body): \(why)")
      }
    }
    if exact, Set(ids) != oracle {
      problems.append("not aborted though stale: \(oracle.subtracting(ids).sorted())")
    }
    return problems
  }
}
