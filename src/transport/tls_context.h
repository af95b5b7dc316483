// TLS settings and the server-side TLS context built from them, replaceable at run time: new
// handshakes use the newest context while existing connections keep the one they started with
// (each holds a shared_ptr to it).
//
// Thread-safe: Current() is called by listeners on shard 0, Reload() from the control thread
// (SIGHUP).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace meshmq::transport {

struct TlsSettings {
  std::string cert_file;  // PEM certificate chain, server certificate first
  std::string key_file;   // PEM private key
  // PEM CA bundle for client certificates. Without verify_client a client certificate is asked
  // for and checked when presented, but not required.
  std::string ca_file;
  bool verify_client = false;  // require a client certificate signed by ca_file
};

// Builds a TLS server context (TLS 1.2 minimum); errors name the file at fault.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(
    const TlsSettings& settings);

class TlsContext {
 public:
  explicit TlsContext(TlsSettings settings) : settings_(std::move(settings)) {}

  // Re-reads the files; on error the previous context stays in use.
  absl::Status Reload();
  // Null until the first successful Reload().
  std::shared_ptr<boost::asio::ssl::context> Current() const;

 private:
  const TlsSettings settings_;
  mutable absl::Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshmq::transport
