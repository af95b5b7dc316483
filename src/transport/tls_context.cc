#include "transport/tls_context.h"

#include <openssl/ssl.h>

namespace meshmq::transport {

namespace ssl = boost::asio::ssl;

namespace {

absl::Status FileError(const std::string& what, const std::string& file,
                       const boost::system::error_code& ec) {
  return absl::InvalidArgumentError("TLS " + what + " '" + file + "': " + ec.message());
}

// Client certificates: required (verify_client), checked when presented (ca_file only), or not
// asked for.
absl::Status SetUpClientVerification(ssl::context& ctx, const TlsSettings& settings) {
  if (settings.ca_file.empty()) {
    if (settings.verify_client) {
      return absl::InvalidArgumentError("TLS client verification needs a CA file");
    }
    return absl::OkStatus();
  }
  boost::system::error_code ec;
  ctx.load_verify_file(settings.ca_file, ec);
  if (ec) return FileError("CA file", settings.ca_file, ec);
  ssl::context::verify_mode mode = ssl::verify_peer;
  if (settings.verify_client) mode |= ssl::verify_fail_if_no_peer_cert;
  ctx.set_verify_mode(mode, ec);
  if (ec) return FileError("CA file", settings.ca_file, ec);
  // Session resumption with peer verification needs a session id context, else OpenSSL fails
  // resumed handshakes.
  static constexpr unsigned char kSessionContext[] = "meshmq";
  SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext, sizeof(kSessionContext) - 1);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeServerContext(const TlsSettings& settings) {
  if (settings.cert_file.empty() || settings.key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->use_certificate_chain_file(settings.cert_file, ec);
  if (ec) return FileError("certificate", settings.cert_file, ec);
  ctx->use_private_key_file(settings.key_file, ssl::context::pem, ec);
  if (ec) return FileError("key", settings.key_file, ec);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError("TLS key '" + settings.key_file +
                                      "' does not match certificate '" + settings.cert_file + "'");
  }
  if (absl::Status s = SetUpClientVerification(*ctx, settings); !s.ok()) return s;
  return ctx;
}

absl::Status TlsContext::Reload() {
  absl::StatusOr<std::shared_ptr<ssl::context>> ctx = MakeServerContext(settings_);
  if (!ctx.ok()) return ctx.status();
  absl::MutexLock lock(&mu_);
  current_ = *std::move(ctx);
  return absl::OkStatus();
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace meshmq::transport
