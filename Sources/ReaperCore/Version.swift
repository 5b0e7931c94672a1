/// The one place the version is written; `--version`, reports and packaging read it from here.
public enum ReaperVersion {
  public static let string = "0.1.0"
}
