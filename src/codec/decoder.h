// Incremental MQTT decoder: bytes in, packets or an error out. No I/O, no logging.
//
// Owned by one connection and touched only by the thread that owns that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
  // Valid when status == kPacket. Starts as an empty alternative: the variant's first one,
  // Connect, is a large struct that every decode would build and destroy for nothing.
  Packet packet{std::in_place_type<Pingreq>};
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

  // Appends bytes read from the wire (copies them).
  void Feed(std::string_view bytes);
  // Like Feed, without the copy: the decoder reads whole packets straight from `bytes`, which
  // must stay valid until Next() returned kNeedMore or an error, or Adopt() was called. Only the
  // bytes of an incomplete packet are copied, so a decoder between packets owns no buffer (the
  // idle footprint of a connection that reads into a shared buffer).
  void FeedBorrowed(std::string_view bytes);
  // Copies what is left of borrowed bytes into the decoder; call before they become invalid
  // when Next() was not run to kNeedMore (e.g. the connection is closing).
  void Adopt();
  // Returns the next complete packet, kNeedMore, or an error. After an error the decoder is
  // poisoned: the connection must be closed.
  DecodeResult Next();
  // Bytes buffered (owned or borrowed) but not yet consumed.
  std::size_t buffered() const { return buffer_.size() - consumed_ + borrowed_.size(); }
  // Heap bytes the decoder holds for buffered data (0 between packets after FeedBorrowed).
  std::size_t owned_capacity() const { return buffer_.capacity() > 15 ? buffer_.capacity() : 0; }

 private:
  DecodeRole role_;
  uint32_t max_packet_size_;
  DecodeResult Poison(DecodeError error);
  // Decodes the packet at the front of `pending`; `used` is its size when one was decoded.
  DecodeResult DecodeFront(std::string_view pending, std::size_t& used);
  // Moves borrowed bytes into the owned buffer until its front packet is complete (or the
  // borrowed bytes run out), so a packet split across reads is joined without copying more.
  void TopUpFromBorrowed();

  ProtocolVersion version_ = ProtocolVersion::kV311;
  bool version_known_ = false;
  bool connect_seen_ = false;  // a second CONNECT is a Protocol Error [MQTT-3.1.0-2]
  bool poisoned_ = false;
  // Repeated by Next() once poisoned (set exactly when poisoned_); on the heap because every
  // connection carries a decoder and almost none ever fails.
  std::unique_ptr<DecodeError> last_error_;
  std::string buffer_;  // owned bytes; freed once everything in it was consumed
  std::size_t consumed_ = 0;
  std::string_view borrowed_;  // FeedBorrowed bytes not consumed yet
};

// Decodes exactly one whole packet (fixed header included) held in `bytes`. For tests and fuzzing.
DecodeResult DecodePacket(std::string_view bytes, ProtocolVersion version,
                          DecodeRole role = DecodeRole::kServer);

}  // namespace meshmq::codec
