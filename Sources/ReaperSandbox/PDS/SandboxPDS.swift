import Foundation
import ReaperCore
import ReaperProviders

/// The PDS dialect, from the same buckets: each bucket is a drive, and its folders are the `/`-separated steps
/// of its keys. Calls are JSON `POST`s under `/v2/` with a Bearer token; error bodies alternate between the
/// `code` and `Code` spellings; pages are at most 100 entries with opaque markers; part markers are opaque
/// strings. Uploads are `uploading` files, and finished files (`SandboxFile`) are `available` ones.
extension SandboxStore {
  /// Where the parts' pre-signed upload URLs point: tests look for it in everything the reaper prints.
  public static let signedURLHost = "sandbox-data.invalid"

  func pdsServe(_ request: SandboxRequest, path: String, state: inout State) -> SandboxResponse {
    let requestID = String(format: "sandbox-%08d", state.requestCounter)
    let capitalized = state.requestCounter % 2 == 1
    func fail(_ status: Int, _ code: String, _ message: String) -> SandboxResponse {
      pdsError(status, code, message, requestID: requestID, capitalized: capitalized)
    }
    if let injected = injectedFault(&state, throttleCode: "TooManyRequests", fail: fail) { return injected }
    guard request.method == "POST" else { return fail(405, "MethodNotAllowed", "PDS calls are POST") }
    guard let authorization = request.header("Authorization"), authorization.hasPrefix("Bearer ") else {
      state.log.rejectedTokens += 1
      return fail(401, "AccessTokenInvalid", "AccessToken is invalid: no Bearer token")
    }
    guard state.accessTokens.contains(String(authorization.dropFirst("Bearer ".count))) else {
      state.log.rejectedTokens += 1
      return fail(401, "AccessTokenInvalid", "AccessToken is invalid")
    }
    if state.faults.expireTokens {
      state.log.rejectedTokens += 1
      return fail(401, "AccessTokenExpired", "AccessToken is expired")
    }
    guard let body = try? LooseJSON.parse(request.body), case .object(let fields) = body else {
      return fail(400, "InvalidParameter.Body", "the body is not a JSON object")
    }
    if path == "/v2/drive/list" {
      guard !state.faults.denyBucketListing else { return fail(403, "Forbidden", "listing drives is denied") }
      var response = pdsDrives(body: body, state: &state)
      response.headers += pdsHeaders(requestID: requestID)
      return response
    }
    guard let driveID = body["drive_id"]?.text, !driveID.isEmpty else {
      return fail(400, "InvalidParameter.DriveId", "drive_id is required")
    }
    if state.faults.denyBuckets.contains(driveID) {
      return fail(403, "Forbidden.Drive", "no permission on drive \(driveID)")
    }
    guard let bucket = state.buckets[driveID] else {
      return fail(404, "NotFound.Drive", "drive \(driveID) does not exist")
    }
    let drive = PDSDrive(bucket)
    var response: SandboxResponse
    switch path {
    case "/v2/file/list":
      state.log.listParameterNames.formUnion(fields.keys)
      response = pdsList(drive, body: body, state: &state, fail: fail)
      if response.status == 200, state.faults.truncateNext > 0 {
        state.faults.truncateNext -= 1
        response.body = Array(response.body.prefix(response.body.count / 2))
      }
    case "/v2/file/list_uploaded_parts":
      state.log.listParts += 1
      response = pdsParts(drive, body: body, state: &state, fail: fail)
    case "/v2/file/get":
      state.log.gets += 1
      response = pdsGet(drive, body: body, state: &state, fail: fail)
    case "/v2/file/delete":
      state.log.aborts += 1
      response = pdsDelete(drive, body: body, state: &state, fail: fail)
    default:
      return fail(404, "NotFound.API", "the sandbox does not serve \(path)")
    }
    if response.status == 200, state.faults.resetNext > 0, !response.body.isEmpty {
      state.faults.resetNext -= 1
      response.delivery = .resetMidBody
    }
    response.headers += pdsHeaders(requestID: requestID)
    return response
  }

  // MARK: calls

  /// ListDrive: drives in id order, `limit` at a time, the marker being the last id of the page before.
  private func pdsDrives(body: LooseJSON, state: inout State) -> SandboxResponse {
    state.log.listBuckets += 1
    let limit = min(100, max(1, Int(body["limit"]?.integer ?? 100)))
    let after = body["marker"]?.text ?? ""
    let rest = state.buckets.keys.sorted().filter { after.isEmpty || $0 > after }
    let page = rest.prefix(limit)
    let items = page.map { id in
      let quoted = JSONString.literal(id)
      return
        #"{"domain_id":"sandbox","drive_id":\#(quoted),"drive_name":\#(quoted),"owner":"sandbox","status":"enabled"}"#
    }
    let next = rest.count > page.count ? page.last ?? "" : ""
    let json = #"{"items":[\#(items.joined(separator: ","))],"next_marker":\#(JSONString.literal(next))}"#
    return SandboxResponse(status: 200, headers: [], body: Array(json.utf8))
  }

  private func pdsList(
    _ drive: PDSDrive, body: LooseJSON, state: inout State, fail: (Int, String, String) -> SandboxResponse
  ) -> SandboxResponse {
    let parentID = body["parent_file_id"]?.text ?? "root"
    guard let folder = drive.path(ofFolder: parentID) else {
      return fail(404, "NotFound.File", "folder \(parentID) does not exist")
    }
    let limit = body["limit"]?.integer ?? 100
    guard (1...100).contains(limit) else { return fail(400, "InvalidParameter.Limit", "limit must be 1 to 100") }
    let uploading: Bool
    switch body["status"]?.text {
    case nil, "available": uploading = false
    case "uploading": uploading = true
    case let other?: return fail(400, "InvalidParameter.Status", "unknown status \(other)")
    }
    if uploading { state.log.listUploads += 1 } else { state.log.listFolders += 1 }
    state.log.listedFolders.insert(folder.isEmpty ? "/" : folder)
    var marker = body["marker"]?.text.flatMap { $0.isEmpty ? nil : $0 }
    let asked = marker
    if marker != nil, state.faults.repeatFirstPageNext > 0 {
      state.faults.repeatFirstPageNext -= 1
      marker = nil
    }
    let entries = drive.children(of: folder, uploading: uploading)
    var start = 0
    if let marker {
      guard let after = PDSDrive.decodeMarker(marker) else {
        return fail(400, "InvalidParameter.Marker", "the marker is not one this server handed out")
      }
      start = entries.firstIndex { PDSDrive.precedes(after, ($0.name, $0.id)) } ?? entries.count
    }
    let size = min(Int(limit), drive.bucket.pds.pageLimit ?? Int(limit))
    let page = entries[start..<min(entries.count, start + max(1, size))]
    var next = start + page.count < entries.count ? page.last.map { PDSDrive.encodeMarker(($0.name, $0.id)) } : nil
    if next != nil, state.faults.stallMarkers, let asked { next = asked }
    if next == nil, let first = page.first, case .upload(let upload) = first.entry,
      state.hostility.markerBackwards([upload], truncated: false) != nil
    {
      next = PDSDrive.encodeMarker((first.name, first.id))
    }
    let items = page.flatMap { item -> [String] in
      guard case .upload(let upload) = item.entry else {
        return [drive.itemJSON(item.entry, omitUpdatedAt: drive.bucket.pds.omitUpdatedAt)]
      }
      return wireListing([upload], dialect: .pds, state: &state).map {
        drive.itemJSON(item.entry, omitUpdatedAt: drive.bucket.pds.omitUpdatedAt, shown: $0)
      }
    }
    let json = "{\"items\":[\(items.joined(separator: ","))],\"next_marker\":\(JSONString.literal(next ?? ""))}"
    return SandboxResponse(status: 200, headers: [], body: Array(json.utf8))
  }

  private func pdsParts(
    _ drive: PDSDrive, body: LooseJSON, state: inout State, fail: (Int, String, String) -> SandboxResponse
  ) -> SandboxResponse {
    guard let fileID = body["file_id"]?.text, let uploadID = body["upload_id"]?.text else {
      return fail(400, "InvalidParameter", "file_id and upload_id are required")
    }
    guard let upload = drive.bucket.uploads.first(where: { $0.fileID == fileID }) else {
      if drive.bucket.files.contains(where: { $0.fileID == fileID }) {
        return fail(drive.bucket.pds.missingUploadStatus, "NotFound.UploadId", "the upload has completed")
      }
      return fail(404, "NotFound.File", "file \(fileID) does not exist")
    }
    guard upload.uploadID == uploadID else {
      return fail(drive.bucket.pds.missingUploadStatus, "NotFound.UploadId", "upload \(uploadID) does not exist")
    }
    let limit = body["limit"]?.integer ?? 100
    guard (1...100).contains(limit) else { return fail(400, "InvalidParameter.Limit", "limit must be 1 to 100") }
    var after = 0
    switch body["part_number_marker"] {
    case nil, .null?: break
    case .number?:
      guard let number = body["part_number_marker"]?.integer else {
        return fail(400, "InvalidParameter.PartNumberMarker", "bad part_number_marker")
      }
      after = Int(number)
    case .string(let text)?:
      guard let number = text.isEmpty ? 0 : PDSDrive.decodePartMarker(text) ?? Int(text) else {
        return fail(400, "InvalidParameter.PartNumberMarker", "bad part_number_marker")
      }
      after = number
    default: return fail(400, "InvalidParameter.PartNumberMarker", "bad part_number_marker")
    }
    let quirks = drive.bucket.pds
    let remaining = upload.parts.sorted { $0.number < $1.number }.filter { $0.number > after }
    let page = remaining.prefix(min(Int(limit), quirks.partsPageLimit ?? Int(limit)))
    var next = ""
    if remaining.count > page.count, let last = page.last {
      next = PDSDrive.encodePartMarker(last.number)
      if state.faults.stallMarkers, case .string(let asked)? = body["part_number_marker"], !asked.isEmpty {
        next = asked
      }
    }
    let nextJSON: String
    if quirks.numericPartMarkers {
      nextJSON = next.isEmpty ? "\"\"" : String(PDSDrive.decodePartMarker(next) ?? 0)
    } else {
      nextJSON = JSONString.literal(next)
    }
    let wire = wireParts(of: upload, page: page, bucket: drive.name, echoesBucket: false, state: &state)
    let parts = wire.parts.map { part in
      let url = signedURL(drive: drive.name, fileID: fileID, uploadID: uploadID, part: part.number)
      return
        "{\"part_number\":\(part.number),\"part_size\":\(part.size),\"etag\":\"\\\"\(Self.etag(part))\\\"\","
        + "\"upload_url\":\(JSONString.literal(url)),\"internal_upload_url\":\(JSONString.literal(url)),"
        + "\"content_type\":\"\",\"parallel_sha1_ctx\":{\"h\":[0],\"part_offset\":0},"
        + "\"signature_info\":{\"auth_type\":\"\",\"signature\":\"\",\"sts_token\":\"\"}}"
    }
    let json =
      "{\"file_id\":\(JSONString.literal(wire.fileID)),\"upload_id\":\(JSONString.literal(wire.uploadID)),"
      + "\"uploaded_parts\":[\(parts.joined(separator: ","))],\"next_part_number_marker\":\(nextJSON),"
      + "\"parallel_upload\":false}"
    return SandboxResponse(status: 200, headers: [], body: Array(json.utf8))
  }

  private func pdsGet(
    _ drive: PDSDrive, body: LooseJSON, state: inout State, fail: (Int, String, String) -> SandboxResponse
  ) -> SandboxResponse {
    guard let fileID = body["file_id"]?.text else { return fail(400, "InvalidParameter.FileId", "file_id is required") }
    var current = drive
    if let upload = drive.bucket.uploads.first(where: { $0.fileID == fileID }),
      let index = state.faults.completeOnGet.firstIndex(of: upload.key)
    {
      // The client finishes its upload just before this look.
      state.faults.completeOnGet.remove(at: index)
      Self.complete(uploadID: upload.uploadID, in: drive.name, at: clock(), state: &state)
      if let bucket = state.buckets[drive.name] { current = PDSDrive(bucket) }
    }
    guard let entry = current.entry(fileID: fileID) else {
      return fail(404, "NotFound.File", "file \(fileID) does not exist")
    }
    var shown: WireUpload?
    if case .upload(let upload) = entry { shown = wireListing([upload], dialect: .pds, state: &state).first }
    let json = current.itemJSON(entry, omitUpdatedAt: current.bucket.pds.omitUpdatedAt, shown: shown)
    return SandboxResponse(status: 200, headers: [], body: Array(json.utf8))
  }

  private func pdsDelete(
    _ drive: PDSDrive, body: LooseJSON, state: inout State, fail: (Int, String, String) -> SandboxResponse
  ) -> SandboxResponse {
    guard let fileID = body["file_id"]?.text else { return fail(400, "InvalidParameter.FileId", "file_id is required") }
    let permanently = body["permanently"]?.boolean
    switch drive.entry(fileID: fileID) {
    case .upload(let upload)?:
      if let lie = deleteRacingCompletion(of: upload, in: drive.name, state: &state, fail: fail) { return lie }
      state.buckets[drive.name]?.uploads.removeAll { $0.fileID == fileID }
      state.aborted.append(
        SandboxAbort(
          bucket: drive.name, key: upload.key, uploadID: upload.uploadID, fileID: fileID, permanently: permanently))
    case .file(let file)?:
      // A finished file deleted: recorded with no upload id, so tests see the false abort.
      state.buckets[drive.name]?.files.removeAll { $0.fileID == fileID }
      state.aborted.append(
        SandboxAbort(bucket: drive.name, key: file.key, uploadID: "", fileID: fileID, permanently: permanently))
    case .folder?:
      return fail(400, "InvalidParameter.FileId", "the sandbox does not delete folders")
    case nil:
      return fail(404, "NotFound.File", "file \(fileID) does not exist")
    }
    guard drive.bucket.pds.asyncDelete else { return SandboxResponse(status: 204, headers: [], body: []) }
    let json =
      "{\"async_task_id\":\"task-\(SandboxIDs.make("task:" + fileID).prefix(16))\",\"domain_id\":\"sandbox\","
      + "\"drive_id\":\(JSONString.literal(drive.name)),\"file_id\":\(JSONString.literal(fileID))}"
    return SandboxResponse(status: 202, headers: [], body: Array(json.utf8))
  }

  // MARK: plumbing

  /// Shaped like OSS's pre-signed URLs, signature and all, though nothing answers at that host.
  private func signedURL(drive: String, fileID: String, uploadID: String, part: Int) -> String {
    let signature = SandboxIDs.make("signature:\(fileID):\(part)")
    return
      "https://\(Self.signedURLHost)/\(drive)/\(fileID)?Expires=4102444800&OSSAccessKeyId=STS.sandbox"
      + "&Signature=\(signature)&partNumber=\(part)&uploadId=\(uploadID)"
  }

  private func pdsHeaders(requestID: String) -> [(String, String)] {
    [
      ("Content-Type", "application/json"), ("Date", Timestamp.formatRFC1123(clock())), ("Server", "sandbox-pds"),
      ("x-ca-request-id", requestID),
    ]
  }

  private func pdsError(
    _ status: Int, _ code: String, _ message: String, requestID: String, capitalized: Bool
  ) -> SandboxResponse {
    let names = capitalized ? ("Code", "Message", "RequestId") : ("code", "message", "request_id")
    let body =
      "{\"\(names.0)\":\(JSONString.literal(code)),\"\(names.1)\":\(JSONString.literal(message)),\"\(names.2)\":\"\(requestID)\"}"
    return SandboxResponse(status: status, headers: pdsHeaders(requestID: requestID), body: Array(body.utf8))
  }
}
