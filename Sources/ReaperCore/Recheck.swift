import Foundation

/// The last look before an abort: the upload's parts listed again just now, compared with what the decision
/// saw. Any sign of life, or any doubt, skips the abort.
public enum Recheck {
  /// - Parameters:
  ///   - before: the parts the decision saw, or nil when the decision read none (a rule on age alone); the
  ///     re-check's listing is then the first look at them.
  ///   - decidedAt: the time, on the clock ages are measured on, of the listing that decided.
  ///   - partsNameIdentities: whether the provider's parts listing documents `Initiator` and `Owner` (S3). Where an
  ///     identity decided the rule, the re-check must then confirm the uploads listing's word, not merely not
  ///     contradict it: Ceph before 17 lists every upload as the requester's own and leaves the IDs out of
  ///     ListParts, so a rule for the reaper's own user would otherwise take in everyone's uploads.
  ///   - identity: which identities the choice of rule turned on (`ScopedRules.identityAsked`): the winner's, and
  ///     those of the rules passed over for them; nil: the winner's alone.
  /// - Returns: why the abort must be skipped, or nil when it may go ahead.
  /// Idle is measured as the decision measured it: from the newest part, else the upload's own last activity
  /// (PDS), never from an older stamp when the times cannot be read.
  public static func reasonToSkip(
    before: PartsSummary?, after: PartsSummary, rule: Rule, upload: Upload, decidedAt: Date, now: Date,
    partsNameIdentities: Bool = false, identity: IdentityAsk? = nil
  ) -> String? {
    let initiated = upload.initiated
    // A rule chosen by who started the upload acts on the listing's word for it: a parts listing that names
    // someone else contradicts it. So does a rule reached because a rule by initiator or owner before it passed
    // the upload over (Ceph 16's listing names the requester, so a rule keeping alice's uploads would let them
    // fall through to an abort rule). Checked only then, so a server that formats the ID differently in its two
    // answers costs no other rule its aborts.
    let asked = identity ?? IdentityAsk(rule: rule)
    let (asksInitiator, asksOwner) = (asked.initiator, asked.owner)
    if asksInitiator || asksOwner {
      if asksInitiator, upload.initiatorID == nil, let named = after.initiatorIDs.first {
        return "recheck: the parts listing names initiator \"\(named.prefix(128))\", the uploads listing none"
      }
      if asksOwner, upload.ownerID == nil, let named = after.ownerIDs.first {
        return "recheck: the parts listing names owner \"\(named.prefix(128))\", the uploads listing none"
      }
      if partsNameIdentities, asksInitiator, after.initiatorIDs.isEmpty {
        return
          "recheck: the parts listing names no initiator, so nothing confirms the uploads listing's \"\(upload.initiatorID ?? "")\""
      }
      if partsNameIdentities, asksOwner, after.ownerIDs.isEmpty {
        return
          "recheck: the parts listing names no owner, so nothing confirms the uploads listing's \"\(upload.ownerID ?? "")\""
      }
      // By scalars: an ID Swift calls equal under canonical equivalence is another user to the server.
      func other(_ ids: Set<String>, than said: String) -> String? {
        ids.first { !$0.unicodeScalars.elementsEqual(said.unicodeScalars) }
      }
      if let said = upload.initiatorID, let other = other(after.initiatorIDs, than: said) {
        return "recheck: the parts listing names initiator \"\(other.prefix(128))\", the uploads listing \"\(said)\""
      }
      if let said = upload.ownerID, let other = other(after.ownerIDs, than: said) {
        return "recheck: the parts listing names owner \"\(other.prefix(128))\", the uploads listing \"\(said)\""
      }
    }
    if before == nil {
      // With nothing to compare with, the parts' dates are the only witness, so a part counts as a sign of life
      // unless its date clearly precedes the listing that decided. Dates that cannot be read or that precede the
      // upload itself vouch for nothing; parts that carry no date at all (PDS) cannot vouch either. A part's stamp
      // is on the storage's clock, the decision on the earlier of the `Date` header and this host's, and the two
      // are taken to agree within the clock checks' tolerance only: a part dated within it of the decision (a
      // stamp a node behind the gateway wrote, or one taken when a long part upload began) may be new.
      if let unknown = after.idleUnknownReason(initiated: initiated) {
        return
          "recheck: \(unknown.dropFirst("idle time unknown: ".count)), so a part may have arrived since the decision"
      }
      if let implausible = after.implausibleSize {
        return "recheck: \(implausible), so this listing vouches for nothing"
      }
      if after.untimedParts > 0 {
        return
          "recheck: \(after.untimedParts) part(s) carry no time, so a part may have arrived since the decision"
      }
      if let newest = after.newestModified, newest >= decidedAt.addingTimeInterval(-Self.clockAgreement) {
        return
          "recheck: a part is dated \(Timestamp.formatRFC3339(newest)), within \(Int(Self.clockAgreement))s of the listing that decided, so it may have arrived since the decision"
      }
    }
    if let before {
      if after.count > before.count || after.highestPartNumber > before.highestPartNumber {
        return "recheck: new part uploaded (\(before.count) → \(after.count) parts)"
      }
      if let newest = after.newestModified, before.newestModified.map({ newest > $0 }) ?? true {
        return "recheck: a part changed since the decision"
      }
      if after.bytes != before.bytes { return "recheck: bytes held changed" }
    }
    if let maxIdle = rule.maxIdle {
      if let unknown = after.idleUnknownReason(initiated: initiated) { return "recheck: \(unknown)" }
      if let unknown = upload.idleUnknown, after.newestModified == nil {
        return "recheck: idle time unknown: \(unknown)"
      }
      let idle = now.timeIntervalSince(
        max(after.newestModified ?? upload.lastActivity?.date ?? initiated, initiated))
      if idle <= Double(maxIdle.seconds) {
        return "recheck: idle \(TimeSpan.humanize(seconds: Int64(idle), like: maxIdle)) <= max_idle \(maxIdle)"
      }
    }
    return nil
  }

  /// How far a part's stamp and the clock the decision was measured on may disagree without a word: the clock
  /// checks' tolerance (beyond it a skew is reported, below it taken for jitter). Stamps and the `Date` header
  /// are also truncated to the second by some services.
  static let clockAgreement: TimeInterval = ClockCheck.tolerance
}
