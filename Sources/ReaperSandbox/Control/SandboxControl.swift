import Foundation

/// The control API under `/_sandbox/`, apart from the dialects: the state snapshot, the faults and the lies.
/// It is neither counted nor logged, and faults do not touch it.
extension SandboxStore {
  func control(path: String, request: SandboxRequest) -> SandboxResponse {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    switch (request.method, path) {
    case ("GET", "/_sandbox/state"):
      encoder.dateEncodingStrategy = .iso8601
      return json(200, (try? encoder.encode(snapshot)) ?? Data())
    case ("GET", "/_sandbox/faults"):
      return json(200, (try? encoder.encode(faults)) ?? Data())
    case ("PUT", "/_sandbox/faults"), ("POST", "/_sandbox/faults"):
      // fail_next as the README writes it, and failNext as the state shows it, both.
      let decoder = JSONDecoder()
      decoder.keyDecodingStrategy = .convertFromSnakeCase
      guard let newFaults = try? decoder.decode(SandboxFaults.self, from: Data(request.body)) else {
        return json(400, Data("{\"Code\":\"InvalidArgument\",\"Message\":\"the body is not a faults object\"}".utf8))
      }
      faults = newFaults
      return json(200, (try? encoder.encode(newFaults)) ?? Data())
    case (_, "/_sandbox/hostile"):
      return hostileControl(request, encoder: encoder)
    default:
      return json(404, Data("{\"Code\":\"NoSuchControl\",\"Message\":\"unknown sandbox control path\"}".utf8))
    }
  }

  /// `GET /_sandbox/hostile` shows the lies; `PUT` (or `POST`) replaces them, with keys in either spelling.
  func hostileControl(_ request: SandboxRequest, encoder: JSONEncoder) -> SandboxResponse {
    switch request.method {
    case "GET":
      return json(200, (try? encoder.encode(hostility)) ?? Data())
    case "PUT", "POST":
      let decoder = JSONDecoder()
      decoder.keyDecodingStrategy = .convertFromSnakeCase
      guard let newHostility = try? decoder.decode(SandboxHostility.self, from: Data(request.body)) else {
        return json(
          400, Data("{\"Code\":\"InvalidArgument\",\"Message\":\"the body is not a hostility object\"}".utf8))
      }
      hostility = newHostility
      return json(200, (try? encoder.encode(newHostility)) ?? Data())
    default:
      return json(405, Data("{\"Code\":\"MethodNotAllowed\",\"Message\":\"GET or PUT\"}".utf8))
    }
  }

  struct Snapshot: Encodable {
    var buckets: [String: [SandboxUpload]]
    /// Finished PDS files, by drive.
    var files: [String: [SandboxFile]]
    var aborted: [SandboxAbort]
    var faults: SandboxFaults
    var hostility: SandboxHostility
    var requests: SandboxRequestLog
  }

  func json(_ status: Int, _ data: Data) -> SandboxResponse {
    SandboxResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
  }
}

extension SandboxStore.Snapshot {
  init(_ state: SandboxStore.State) {
    self.init(
      buckets: state.buckets.mapValues(\.uploads),
      files: state.buckets.mapValues(\.files).filter { !$0.value.isEmpty },
      aborted: state.aborted, faults: state.faults, hostility: state.hostility, requests: state.log)
  }
}
