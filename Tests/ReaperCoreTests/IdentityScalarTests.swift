import Foundation
import Testing

@testable import ReaperCore

/// The re-check confirms the uploads listing's `Initiator`/`Owner` ID only with the very same ID. Two IDs that
/// Swift calls equal under canonical equivalence (a precomposed "é" and "e" with a combining accent) are two
/// users to the server, as globs and plan addresses already treat them.
@Suite("Identity re-check compares IDs by their scalars")
struct IdentityScalarTests {
  @Test func anIDSpelledWithOtherScalarsConfirmsNothing() {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let precomposed = "jos\u{E9}"
    let decomposed = "jose\u{301}"
    #expect(precomposed == decomposed, "Swift's String equality is what made this an attack")
    var upload = Upload(
      target: "t", bucket: "b", key: "k", uploadID: "u", initiated: now.addingTimeInterval(-10 * 86_400))
    upload.initiatorID = precomposed
    upload.ownerID = precomposed
    var parts = PartsSummary()
    parts.add(Part(number: 1, size: 5, lastModified: now.addingTimeInterval(-9 * 86_400)))
    func verdict(_ rule: Rule, initiators: Set<String>, owners: Set<String>) -> String? {
      var after = parts
      after.initiatorIDs = initiators
      after.ownerIDs = owners
      return Recheck.reasonToSkip(
        before: parts, after: after, rule: rule, upload: upload, decidedAt: now, now: now, partsNameIdentities: true)
    }
    let byOwner = Rule(name: "o", maxAge: TimeSpan(seconds: 86_400), owner: [Glob("jos*")], action: .abort)
    let byInitiator = Rule(name: "i", maxAge: TimeSpan(seconds: 86_400), initiator: [Glob("jos*")], action: .abort)
    #expect(verdict(byOwner, initiators: [], owners: [decomposed]) != nil)
    #expect(verdict(byInitiator, initiators: [decomposed], owners: []) != nil)
    // The same scalars still confirm.
    #expect(verdict(byOwner, initiators: [], owners: [precomposed]) == nil)
    #expect(verdict(byInitiator, initiators: [precomposed], owners: []) == nil)
  }
}
