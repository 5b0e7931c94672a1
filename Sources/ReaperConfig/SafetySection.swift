import ReaperCore

extension ConfigValidator {
  mutating func validateSafety(_ section: Section?) -> SafetySettings? {
    let section = section ?? Section(.safety)
    checkUnknownKeys(section)
    let defaults = SafetySettings()
    let minAge = duration(section, "min_age") ?? (section.table["min_age"] == nil ? defaults.minAge : nil)
    let maxAborts = integer(section, "max_aborts_per_cycle", range: 0...10_000_000) ?? defaults.maxAbortsPerCycle
    var fraction = defaults.maxAbortFraction
    if let value = section.table["max_abort_fraction"] {
      let number = value.double ?? value.int.map(Double.init)
      if let number, number > 0, number <= 1 {
        fraction = number
      } else if number != nil {
        report(
          at(section, "max_abort_fraction"), "safety.max_abort_fraction", "must be above 0 and at most 1 (0.5 is half)")
      } else {
        typeMismatch(section, "max_abort_fraction", expected: "a number", got: value.type)
      }
    }
    let recheck = boolean(section, "recheck_before_abort") ?? defaults.recheckBeforeAbort
    guard let minAge else { return nil }
    return SafetySettings(
      minAge: minAge, maxAbortsPerCycle: maxAborts, maxAbortFraction: fraction, recheckBeforeAbort: recheck)
  }
}
