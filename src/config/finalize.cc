#include "config/finalize.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace meshmq::config::internal {
namespace {

const Option& OptionFor(absl::string_view flag) { return *FindOptionByFlag(flag); }

// "peers (--peers, MESHMQ_PEERS or "peers" in the config file)": every way to set it.
std::string AllNames(const Option& option) {
  return absl::StrCat(option.flag, " (--", option.flag, ", ", EnvName(option), " or \"",
                      JsonKey(option), "\" in the config file)");
}

// `when_flag` set to `when_value` requires `needed_flag` to be non-empty.
absl::Status Requires(const LoadState& state, absl::string_view when_flag,
                      absl::string_view when_value, absl::string_view needed_flag, bool present) {
  if (present) return absl::OkStatus();
  const Option& when = OptionFor(when_flag);
  return absl::InvalidArgumentError(absl::StrCat(state.OriginOf(when), ": ", when_flag, " \"",
                                                 when_value, "\" needs ",
                                                 AllNames(OptionFor(needed_flag))));
}

absl::Status CheckCombinations(const LoadState& state) {
  const Config& c = state.config;
  if (c.discovery == "static") {
    absl::Status s = Requires(state, "discovery", "static", "peers", !c.peers.empty());
    if (!s.ok()) return s;
  }
  if (c.discovery == "dns" || c.discovery == "dns-srv") {
    absl::Status s = Requires(state, "discovery", c.discovery, "dns-name", !c.dns_name.empty());
    if (!s.ok()) return s;
  }
  // Mutual TLS needs all three files; a partial set would silently fall back to plaintext.
  if (!c.cluster_tls_cert.empty() || !c.cluster_tls_key.empty() || !c.cluster_tls_ca.empty()) {
    const char* needed[][2] = {{"cluster-tls-cert", c.cluster_tls_cert.c_str()},
                               {"cluster-tls-key", c.cluster_tls_key.c_str()},
                               {"cluster-tls-ca", c.cluster_tls_ca.c_str()}};
    for (const auto& [flag, value] : needed) {
      if (*value != '\0') continue;
      return absl::InvalidArgumentError(
          absl::StrCat("mutual TLS between nodes needs ", AllNames(OptionFor(flag)),
                       " as well (set cluster-tls-cert, cluster-tls-key and cluster-tls-ca)"));
    }
  }
  if (c.storage == "rocksdb") {
    return Requires(state, "storage", "rocksdb", "data-dir", !c.data_dir.empty());
  }
  return absl::OkStatus();
}

// Kubernetes mounts secrets as files, usually with a trailing newline: hence the trim.
absl::Status ReadSecretFile(LoadState& state) {
  Config& c = state.config;
  if (c.cluster_secret_file.empty()) return absl::OkStatus();
  const std::string where = absl::StrCat(state.OriginOf(OptionFor("cluster-secret-file")),
                                         ": cannot read \"", c.cluster_secret_file, "\": ");
  std::ifstream in(c.cluster_secret_file, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(where, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(where, std::strerror(errno)));
  std::string secret(absl::StripAsciiWhitespace(text.str()));
  if (secret.empty()) return absl::InvalidArgumentError(absl::StrCat(where, "file is empty"));
  c.cluster_secret = std::move(secret);
  return absl::OkStatus();
}

std::string DefaultNodeId(const char* const* envp) {
  std::optional<std::string> from_env = GetEnv(envp, "HOSTNAME");
  if (from_env && !from_env->empty()) return *from_env;
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "meshmq";
  return name.data();
}

}  // namespace

absl::Status Finalize(const char* const* envp, LoadState& state) {
  absl::Status status = ReadSecretFile(state);
  if (!status.ok()) return status;
  if (state.config.node_id.empty()) state.config.node_id = DefaultNodeId(envp);
  return CheckCombinations(state);
}

}  // namespace meshmq::config::internal
