import ReaperCore
import ReaperWire

/// Checks that an answer is about what was asked. A server (or a proxy, or a cache in front of it) that answers
/// for another bucket, key or upload id is answering a different question, and nothing in its answer may
/// decide an abort. A field the server leaves out is no contradiction; one that disagrees fails the page.
enum Echo {
  static func check(
    _ field: String, asked: String, answered: String?, context: RequestContext, status: Int
  ) throws(ProviderError) {
    guard let answered, answered != asked else { return }
    // Some servers URL-encode echoed names although only listings were asked to: the decoded form counts too.
    if URLEncoding.decode(answered) == asked { return }
    throw context.error(
      .inconsistentResponse,
      "asked about \(field) \"\(asked)\", answered about \"\(answered.prefix(256))\"; not trusted", status: status)
  }

  /// The parts page of one upload: bucket, key and upload id as the server echoed them.
  static func check(
    bucket: String?, key: String?, uploadID: String?, asked: UploadAddress, context: RequestContext, status: Int
  ) throws(ProviderError) {
    try check("bucket", asked: asked.bucket, answered: bucket, context: context, status: status)
    try check("key", asked: asked.key, answered: key, context: context, status: status)
    try check("upload id", asked: asked.uploadID, answered: uploadID, context: context, status: status)
  }

  static func check(
    _ page: S3Decoder.PartsPage, asked: UploadAddress, context: RequestContext, status: Int
  ) throws(ProviderError) {
    try check(
      bucket: page.bucket, key: page.key, uploadID: page.uploadID, asked: asked, context: context, status: status)
  }

  static func check(
    _ page: CDCSDecoder.PartsPage, asked: UploadAddress, context: RequestContext, status: Int
  ) throws(ProviderError) {
    try check(
      bucket: page.coffer, key: page.key, uploadID: page.uploadID, asked: asked, context: context, status: status)
  }
}
