#include "storage/store_keys.h"

namespace meshmq::storage::keys {

namespace {

std::string Prefixed(char kind, std::string_view a) {
  std::string key;
  key.reserve(1 + a.size() + 10);
  key.push_back(kind);
  key.append(a);
  return key;
}

void AppendBigEndian(std::string& out, uint64_t v, int bytes) {
  // Big-endian so that byte order is numeric order: a scan returns messages in sequence.
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::string Retained(std::string_view topic) { return Prefixed(kRetained, topic); }
std::string Session(std::string_view client_id) { return Prefixed(kSession, client_id); }

std::string Subscription(std::string_view client_id, std::string_view filter) {
  std::string key = RangeBegin(kSubscription, client_id);
  key.append(filter);
  return key;
}

std::string Message(uint64_t seq) {
  std::string key(1, kMessage);
  AppendBigEndian(key, seq, 8);
  return key;
}

std::string IncomingQos2(std::string_view client_id, uint16_t packet_id) {
  std::string key = RangeBegin(kIncomingQos2, client_id);
  AppendBigEndian(key, packet_id, 2);
  return key;
}

std::string RangeBegin(char kind, std::string_view client_id) {
  std::string key = Prefixed(kind, client_id);
  key.push_back('\0');
  return key;
}

std::string RangeEnd(char kind, std::string_view client_id) {
  std::string key = Prefixed(kind, client_id);
  key.push_back('\1');
  return key;
}

std::optional<SessionKey> Split(std::string_view key) {
  if (key.empty()) return std::nullopt;
  key.remove_prefix(1);
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos) return std::nullopt;
  return SessionKey{key.substr(0, nul), key.substr(nul + 1)};
}

uint64_t DecodeBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

}  // namespace meshmq::storage::keys
