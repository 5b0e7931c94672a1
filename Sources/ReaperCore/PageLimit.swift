/// How many pages one listing may take. A server that says "truncated" forever, with markers it never repeats,
/// must not hold a cycle: the walk ends with an error instead. 100 000 pages of 1000 is 100 million uploads, more
/// than any real bucket holds. The config's `max_pages_per_bucket` and every provider made without one share it.
public enum PageLimit {
  public static let defaultMaximumPages = 100_000
}
