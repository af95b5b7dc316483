// Incremental MQTT decoder: bytes in, packets or an error out. No I/O, no logging.
//
// Owned by one connection and touched only by the thread that owns that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/packets.h"

namespace meshmq::codec {

struct DecodeError {
  // The reason code to send (v5 DISCONNECT / CONNACK) before closing: kMalformedPacket,
  // kProtocolError, kPacketTooLarge, kUnsupportedProtocolVersion, kTopicNameInvalid, ...
  ReasonCode reason = ReasonCode::kMalformedPacket;
  std::string detail;  // for logs, e.g. "PUBLISH: qos 3"
};

enum class DecodeStatus { kNeedMore, kPacket, kError };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kNeedMore;
  Packet packet;      // valid when status == kPacket
  DecodeError error;  // valid when status == kError
};

// Which side of the connection decodes; a server rejects packets only a server may send.
enum class DecodeRole { kServer, kClient };

class Decoder {
 public:
  explicit Decoder(DecodeRole role = DecodeRole::kServer, uint32_t max_packet_size = 268435455);

  // The protocol version is unknown until CONNECT; the server decoder learns it from the CONNECT
  // it decodes. A client decoder is told the version it connected with.
  void set_version(ProtocolVersion version) { version_ = version; version_known_ = true; }
  ProtocolVersion version() const { return version_; }
  void set_max_packet_size(uint32_t max) { max_packet_size_ = max; }

  // Appends bytes read from the wire.
  void Feed(std::string_view bytes);
  // Returns the next complete packet, kNeedMore, or an error. After an error the decoder is
  // poisoned: the connection must be closed.
  DecodeResult Next();
  // Bytes buffered but not yet consumed.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  DecodeRole role_;
  uint32_t max_packet_size_;
  DecodeResult Poison(DecodeError error);

  ProtocolVersion version_ = ProtocolVersion::kV311;
  bool version_known_ = false;
  bool connect_seen_ = false;  // a second CONNECT is a Protocol Error [MQTT-3.1.0-2]
  bool poisoned_ = false;
  DecodeError last_error_;  // repeated by Next() once poisoned
  std::string buffer_;
  std::size_t consumed_ = 0;
};

// Decodes exactly one whole packet (fixed header included) held in `bytes`. For tests and fuzzing.
DecodeResult DecodePacket(std::string_view bytes, ProtocolVersion version,
                          DecodeRole role = DecodeRole::kServer);

}  // namespace meshmq::codec
