import ReaperCore

extension ConfigValidator {
  mutating func validateMetrics(_ section: Section?) -> MetricsSettings {
    guard let section else { return MetricsSettings() }
    checkUnknownKeys(section)
    var settings = MetricsSettings()
    if let text = string(section, "listen") {
      if let address = ListenAddress(parsing: text) {
        settings.listen = address
      } else {
        report(
          at(section, "listen"), "metrics.listen",
          "\"\(text)\" is not host:port, such as \"127.0.0.1:9464\" or \"[::1]:9464\"")
      }
    }
    if let path = string(section, "textfile") {
      if !path.hasPrefix("/") {
        report(at(section, "textfile"), "metrics.textfile", "\"\(path)\" must be an absolute path")
      } else if path.hasSuffix("/") {
        report(at(section, "textfile"), "metrics.textfile", "\"\(path)\" names a directory, not a file")
      } else {
        settings.textfile = path
        if !path.hasSuffix(".prom") {
          report(
            at(section, "textfile"), "metrics.textfile",
            "node_exporter's textfile collector reads only files ending in .prom", .warning)
        }
      }
    }
    return settings
  }
}
