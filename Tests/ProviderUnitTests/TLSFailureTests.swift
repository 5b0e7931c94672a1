import Testing

@testable import ReaperProviders

/// BoringSSL's error strings read into plain words: the alert a server sent, the reason names otherwise.
@Suite("TLS failure wording")
struct TLSFailureTests {
  @Test(arguments: [
    ("error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED", "certificate required"),
    ("error:10000410:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE", "handshake failure"),
    ("error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA", "unknown ca"),
  ])
  func anAlertIsNamed(text: String, alert: String) {
    #expect(TLSFailure.alert(in: text) == alert)
  }

  @Test func reasonNamesAreKeptAndTheRestDropped() {
    let text =
      "sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at ssl/tls_record.cc:231])"
    #expect(TLSFailure.alert(in: text) == nil)
    #expect(TLSFailure.reasons(in: text) == "WRONG_VERSION_NUMBER")
    #expect(TLSFailure.reasons(in: "something else") == "something else")
  }

  @Test func errorsThatAreNotTLSAreLeftToTheTransport() {
    struct Other: Error {}
    #expect(TLSFailure(Other()) == nil)
  }
}
