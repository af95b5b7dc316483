#include "tools/bench/bench_client.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "codec/encoder.h"

namespace meshmq::bench {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr int kPrefixBytes = 16;            // sequence (with publisher id) + send timestamp
constexpr int kSeqBits = 40;                // low bits of the first word: sequence number
constexpr uint64_t kSeqMask = (uint64_t{1} << kSeqBits) - 1;

void AppendLe64(uint64_t v, std::string& out) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, 8);
}

uint64_t ReadLe64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

template <typename T>
T Ack(uint16_t packet_id) {
  T ack;
  ack.packet_id = packet_id;
  return ack;
}

}  // namespace

BenchClient::BenchClient(Worker& worker, const Options& options, ClientSpec spec)
    : worker_(worker),
      options_(options),
      spec_(std::move(spec)),
      version_(options.mqtt_version == 5 ? codec::ProtocolVersion::kV5
                                         : codec::ProtocolVersion::kV311),
      socket_(worker.io()),
      timer_(worker.io()),
      window_(options.inflight) {
  decoder_.set_version(version_);
  if (!spec_.publish_topic.empty()) {
    publish_.topic = spec_.publish_topic;
    publish_.qos = static_cast<uint8_t>(options.qos);
    // The header encoder only needs the payload's size; the bytes are appended per message.
    publish_.payload = codec::SharedBytes(std::string(options.payload, 'x'));
    filler_.assign(options.payload - kPrefixBytes, 'x');
  }
}

void BenchClient::Start() {
  socket_.async_connect(spec_.endpoint, [this](const error_code& ec) { OnConnected(ec); });
}

void BenchClient::OnConnected(const error_code& ec) {
  if (ec) return Fail();
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
  codec::Connect connect;
  connect.version = version_;
  connect.client_id = spec_.client_id;
  connect.clean_start = !options_.persistent;
  if (options_.persistent && version_ == codec::ProtocolVersion::kV5) {
    connect.properties.session_expiry_interval = 300;
  }
  connect.keep_alive = static_cast<uint16_t>(options_.keep_alive_s);  // runs end before a PINGREQ
  Send(connect);
  Flush();
  WaitReadable();
}

void BenchClient::WaitReadable() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [this](const error_code& ec) {
    if (ec) return Fail();
    OnReadable();
  });
}

void BenchClient::OnReadable() {
  std::vector<char>& buf = worker_.scratch();
  for (;;) {
    error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) return Fail();
    decoder_.Feed(std::string_view(buf.data(), n));
    for (;;) {
      codec::DecodeResult r = decoder_.Next();
      if (r.status == codec::DecodeStatus::kNeedMore) break;
      if (r.status == codec::DecodeStatus::kError) return Fail();
      Handle(r.packet);
      if (closed_) return;
    }
    if (n < buf.size()) break;
  }
  if (!touched_.empty()) WakePublishers();
  Pump();
  Flush();
  FlushCounters();
  WaitReadable();
}

void BenchClient::Handle(codec::Packet& packet) {
  std::visit(
      [this](auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, codec::Publish>) {
          HandlePublish(p);
        } else if constexpr (std::is_same_v<T, codec::Connack>) {
          HandleConnack(p);
        } else if constexpr (std::is_same_v<T, codec::Suback>) {
          if (p.reason_codes.empty() || static_cast<int>(p.reason_codes[0]) >= 0x80) return Fail();
          subscribed_ = true;
          worker_.counters().ready.fetch_add(1);
        } else if constexpr (std::is_same_v<T, codec::Puback> ||
                             std::is_same_v<T, codec::Pubcomp>) {
          OnFlowComplete();
        } else if constexpr (std::is_same_v<T, codec::Pubrec>) {
          if (static_cast<int>(p.reason_code) >= 0x80) return OnFlowComplete();
          Send(Ack<codec::Pubrel>(p.packet_id));
        } else if constexpr (std::is_same_v<T, codec::Pubrel>) {
          Send(Ack<codec::Pubcomp>(p.packet_id));
        } else if constexpr (std::is_same_v<T, codec::Disconnect>) {
          Fail();
        }
      },
      packet);
}

void BenchClient::HandleConnack(const codec::Connack& connack) {
  if (connack.reason_code != codec::ReasonCode::kSuccess) return Fail();
  if (connack.properties.receive_maximum) {
    window_ = std::min<int>(window_, *connack.properties.receive_maximum);
  }
  if (spec_.subscribe_filter.empty()) {
    worker_.counters().ready.fetch_add(1);
    return;
  }
  codec::Subscribe sub;
  sub.packet_id = 1;
  sub.subscriptions.push_back(
      {.filter = spec_.subscribe_filter, .qos = static_cast<uint8_t>(options_.qos)});
  Send(sub);
}

void BenchClient::HandlePublish(const codec::Publish& publish) {
  if (publish.qos == 1) Send(Ack<codec::Puback>(publish.packet_id));
  if (publish.qos == 2) Send(Ack<codec::Pubrec>(publish.packet_id));
  if (publish.payload.size() < kPrefixBytes) return;  // not ours (e.g. a retained leftover)
  uint64_t word = ReadLe64(publish.payload.data());
  int64_t sent_ns = static_cast<int64_t>(ReadLe64(publish.payload.data() + 8));
  ++pending_received_;
  uint32_t publisher = static_cast<uint32_t>(word >> kSeqBits);
  if (tracker_.Add(publisher, word & kSeqMask)) {
    worker_.histogram().Record(NowNs() - sent_ns);
    NoteDelivery(publisher);
  }
}

void BenchClient::OnFlowComplete() {
  if (inflight_ > 0) --inflight_;
  ++pending_completed_;
}

void BenchClient::Send(const codec::Packet& packet) {
  codec::Encode(packet, version_, out_);
}

void BenchClient::Flush() {
  if (write_busy_ || out_.empty() || closed_) return;
  std::swap(out_, writing_);
  out_.clear();
  writing_messages_ = out_messages_;
  out_messages_ = 0;
  write_busy_ = true;
  asio::async_write(socket_, asio::buffer(writing_), [this](const error_code& ec, size_t) {
    write_busy_ = false;
    if (ec) return Fail();
    if (options_.qos == 0) inflight_ -= writing_messages_;
    writing_messages_ = 0;
    Pump();
    Flush();
    FlushCounters();
  });
}

void BenchClient::StartPublishing() {
  if (spec_.publish_topic.empty() || closed_) return;
  publishing_ = true;
  start_ns_ = NowNs();
  Pump();
  Flush();
  FlushCounters();
  if (options_.rate > 0) ArmPacer();
}

void BenchClient::StopPublishing() {
  publishing_ = false;
  timer_.cancel();
}

void BenchClient::NoteDelivery(uint32_t publisher) {
  std::vector<PublisherFlow>* flows = spec_.flows;
  if (flows == nullptr || publisher >= flows->size()) return;
  (*flows)[publisher].delivered.fetch_add(1);
  if (touched_.empty() || touched_.back() != publisher) touched_.push_back(publisher);
}

void BenchClient::WakePublishers() {
  for (uint32_t p : touched_) {
    PublisherFlow& flow = (*spec_.flows)[p];
    if (flow.blocked.exchange(false)) {
      BenchClient* pub = flow.publisher;
      asio::post(pub->worker().io(), [pub] { pub->Wake(); });
    }
  }
  touched_.clear();
}

void BenchClient::Wake() {
  Pump();
  Flush();
  FlushCounters();
}

// Sets `blocked` before re-checking, so a delivery that lands in between still wakes us.
bool BenchClient::EndToEndFull() {
  if (spec_.flows == nullptr) return false;
  PublisherFlow& flow = (*spec_.flows)[spec_.index];
  auto full = [&] {
    return seq_ * spec_.receivers - flow.delivered.load() >=
           static_cast<uint64_t>(options_.inflight) * spec_.receivers;
  };
  if (!full()) return false;
  flow.blocked.store(true);
  if (!full()) {
    flow.blocked.store(false);
    return false;
  }
  return true;
}

bool BenchClient::CanPublish() {
  if (!publishing_ || closed_ || inflight_ >= window_) return false;
  if (options_.count > 0 && seq_ >= options_.count) return false;
  if (EndToEndFull()) return false;
  if (options_.rate <= 0) return true;
  double due = static_cast<double>(NowNs() - start_ns_) * options_.rate / 1e9;
  return static_cast<double>(seq_) <= due;
}

void BenchClient::Pump() {
  // Bounded per call so one publisher cannot starve its worker's other sockets.
  for (int i = 0; i < 1024 && CanPublish(); ++i) AppendPublish();
  if (publishing_ && options_.count > 0 && seq_ >= options_.count) {
    publishing_ = false;
    worker_.counters().publishers_done.fetch_add(1);
  }
}

void BenchClient::AppendPublish() {
  if (publish_.qos > 0) publish_.packet_id = static_cast<uint16_t>(seq_ % 65535 + 1);
  codec::EncodePublishHeader(publish_, version_, out_);
  AppendLe64((uint64_t{spec_.index} << kSeqBits) | seq_, out_);
  AppendLe64(static_cast<uint64_t>(NowNs()), out_);
  out_.append(filler_);
  ++seq_;
  ++inflight_;
  if (publish_.qos == 0) ++out_messages_;
  ++pending_sent_;
}

void BenchClient::ArmPacer() {
  // Wake when the next message is due; acks and write completions also pump in between.
  int64_t due_ns = start_ns_ + static_cast<int64_t>(static_cast<double>(seq_) * 1e9 / options_.rate);
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(due_ns)));
  timer_.async_wait([this](const error_code& ec) {
    if (ec || !publishing_) return;
    Pump();
    Flush();
    FlushCounters();
    ArmPacer();
  });
}

void BenchClient::FlushCounters() {
  Counters& c = worker_.counters();
  if (pending_sent_) c.sent.fetch_add(pending_sent_, std::memory_order_relaxed);
  if (pending_completed_) c.completed.fetch_add(pending_completed_, std::memory_order_relaxed);
  if (pending_received_) {
    c.received.fetch_add(pending_received_, std::memory_order_relaxed);
    c.last_receive_ns.store(NowNs(), std::memory_order_relaxed);
  }
  pending_sent_ = pending_received_ = pending_completed_ = 0;
}

void BenchClient::Fail() {
  FlushCounters();
  if (closed_) return;
  failed_ = true;
  worker_.counters().failed.fetch_add(1);
  Abort();
}

void BenchClient::Abort() {
  if (closed_) return;
  closed_ = true;
  publishing_ = false;
  error_code ignored;
  timer_.cancel();
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

void BenchClient::AbortAfter(int ms) {
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([this](const error_code& ec) {
    if (!ec) Abort();
  });
}

}  // namespace meshmq::bench
