extension Set where Element == String {
  /// The member Swift's String equality folds `id` into though its Unicode scalars differ, if any. Such IDs are two
  /// users to a server, and a set keeps only the first of them: an answer that names both is not to be read.
  public func spelledOtherwise(_ id: String) -> String? {
    guard let index = firstIndex(of: id) else { return nil }
    return self[index].unicodeScalars.elementsEqual(id.unicodeScalars) ? nil : self[index]
  }
}
