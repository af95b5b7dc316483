// The gRPC side: the Cluster service (accepting peers' streams), one dialer per peer address, and
// start/stop. The only translation unit of the cluster that includes gRPC headers.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "cluster.grpc.pb.h"
#include "cluster/cluster_impl.h"
#include "cluster/frame_arena.h"
#include "spdlog/spdlog.h"

namespace meshmq::cluster {
namespace {

// Compares the whole secret whatever the first differing byte, so response time reveals nothing.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? a[i] : 0;
    unsigned char y = i < b.size() ? b[i] : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

// Mutual TLS: a peer must present a certificate chained to our CA, and we present ours.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const ClusterOptions& o) {
  if (!o.tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = o.tls_ca_pem;
  ssl.pem_key_cert_pairs.push_back({o.tls_key_pem, o.tls_cert_pem});
  return grpc::SslServerCredentials(ssl);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const ClusterOptions& o) {
  if (!o.tls()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = o.tls_ca_pem;  // the server's certificate must chain to our CA too
  ssl.pem_private_key = o.tls_key_pem;
  ssl.pem_cert_chain = o.tls_cert_pem;
  return grpc::SslCredentials(ssl);
}

std::string FormatHostPort(const config::HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) return "[" + hp.host + "]:" + std::to_string(hp.port);
  return hp.host + ":" + std::to_string(hp.port);
}

}  // namespace

class ClusterService final : public v1::Cluster::Service {
 public:
  explicit ClusterService(ClusterNode::Impl& impl) : impl_(impl) {}

  grpc::Status Link(grpc::ServerContext* ctx,
                    grpc::ServerReaderWriter<v1::Frame, v1::Frame>* stream) override {
    const ClusterOptions& opts = impl_.options();
    auto it = ctx->client_metadata().find(kSecretHeader);
    std::string_view secret;
    if (it != ctx->client_metadata().end()) secret = {it->second.data(), it->second.size()};
    if (!ConstantTimeEquals(secret, opts.secret)) {
      impl_.CountAuthFailure();
      spdlog::warn("cluster: refused stream from {}: wrong cluster secret", ctx->peer());
      return {grpc::StatusCode::UNAUTHENTICATED, "wrong cluster secret"};
    }
    v1::Frame first;
    if (!stream->Read(&first) || !first.has_hello()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "expected hello"};
    }
    const v1::Hello& hello = first.hello();
    if (hello.cluster_name() != opts.cluster_name) {
      impl_.CountAuthFailure();
      spdlog::warn("cluster: refused {} from {}: cluster name '{}' is not '{}'", hello.node_id(),
                   ctx->peer(), hello.cluster_name(), opts.cluster_name);
      return {grpc::StatusCode::PERMISSION_DENIED, "wrong cluster name"};
    }
    if (hello.protocol_version() != kProtocolVersion) {
      // No translation between versions: a mixed-version cluster does not form (docs/cluster.md).
      spdlog::warn("cluster: refused {} from {}: protocol version {}, this node speaks {}",
                   hello.node_id(), ctx->peer(), hello.protocol_version(), kProtocolVersion);
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "unsupported protocol version " + std::to_string(hello.protocol_version()) +
                  " (this node speaks " + std::to_string(kProtocolVersion) + ")"};
    }
    v1::Frame reply;
    if (hello.node_id() == opts.node_id) {  // discovery listed our own address: tell the dialer
      reply.mutable_hello_ack()->set_node_id(opts.node_id);
      reply.mutable_hello_ack()->set_incarnation(opts.incarnation);
      stream->Write(reply);
      return grpc::Status::OK;
    }
    const std::string node_id = hello.node_id();
    auto link = std::make_shared<cluster::Link>(
        [stream](const v1::Frame& f) { return stream->Write(f); },
        [this, node_id](FrameArena* arena, std::vector<const v1::Frame*>* frames) {
          impl_.PullReverseLane(node_id, arena, frames);
        });
    if (!impl_.OnInboundHello(hello, link, ctx, reply.mutable_hello_ack())) {
      return {grpc::StatusCode::UNAVAILABLE, "not accepting this peer now"};
    }
    if (stream->Write(reply)) {
      link->Start();
      FrameArena arena;
      for (v1::Frame* frame = arena.Fresh(); stream->Read(frame); frame = arena.Fresh()) {
        impl_.OnForwardLaneFrame(node_id, std::move(*frame));
      }
    }
    impl_.OnInboundClosed(node_id, link.get());
    ctx->TryCancel();  // unblocks a writer stuck on a dead peer
    link->Close();
    return grpc::Status::OK;
  }

 private:
  ClusterNode::Impl& impl_;
};

void ClusterNode::Impl::CountAuthFailure() {
  absl::MutexLock lock(&mu_);
  ++stats_.auth_failures;
}

namespace {

enum class StreamEnd { kBroken, kRefused, kSelf, kAlias };

}  // namespace

// One attempt: connect, hello, then read the reverse lane until the stream breaks.
static StreamEnd RunStream(ClusterNode::Impl& impl, Dialer* dialer, v1::Cluster::Stub& stub,
                           std::string* error) {
  const ClusterOptions& opts = impl.options();
  grpc::ClientContext ctx;
  ctx.AddMetadata(kSecretHeader, opts.secret);
  if (!impl.AttachDialerContext(dialer, &ctx)) return StreamEnd::kBroken;
  std::unique_ptr<grpc::ClientReaderWriter<v1::Frame, v1::Frame>> stream = stub.Link(&ctx);
  v1::Frame frame;
  v1::Hello* hello = frame.mutable_hello();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_cluster_name(opts.cluster_name);
  hello->set_node_id(opts.node_id);
  hello->set_incarnation(opts.incarnation);
  hello->set_advertise(impl.bound_address());
  hello->set_http_address(opts.http_address);
  v1::Frame ack;
  StreamEnd end = StreamEnd::kBroken;
  std::shared_ptr<Link> link;
  if (stream->Write(frame) && stream->Read(&ack) && ack.has_hello_ack()) {
    if (ack.hello_ack().node_id() == opts.node_id) {
      end = StreamEnd::kSelf;
    } else {
      std::string node_id = ack.hello_ack().node_id();
      auto* raw = stream.get();
      link = std::make_shared<Link>(
          [raw](const v1::Frame& f) { return raw->Write(f); },
          [&impl, node_id](FrameArena* arena, std::vector<const v1::Frame*>* fs) {
            impl.PullForwardLane(node_id, arena, fs);
          });
      std::vector<broker::MessagePtr> retained = impl.local().RetainedSnapshot();
      if (impl.OnOutboundHello(dialer, ack.hello_ack(), link, &ctx, std::move(retained))) {
        spdlog::info("cluster: connected to {} at {}", node_id, dialer->address);
        link->Start();
        FrameArena arena;
        for (v1::Frame* in = arena.Fresh(); stream->Read(in); in = arena.Fresh()) {
          impl.OnReverseLaneFrame(node_id, std::move(*in));
        }
        spdlog::info("cluster: stream to {} at {} closed", node_id, dialer->address);
        impl.OnOutboundClosed(node_id, link.get());
      } else {
        end = StreamEnd::kAlias;
      }
    }
  }
  ctx.TryCancel();
  if (link) link->Close();
  impl.AttachDialerContext(dialer, nullptr);
  grpc::Status status = stream->Finish();
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
      status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    end = StreamEnd::kRefused;
  }
  *error = status.error_message();
  return end;
}

bool ClusterNode::Impl::AttachDialerContext(Dialer* dialer, grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  if (ctx != nullptr && (dialer->stop || stopping_)) return false;
  dialer->ctx = ctx;
  return true;
}

// Keeps one stream to `dialer->address` alive. Addresses that do not answer (pods not ready yet)
// are retried with exponential backoff capped at max_backoff_ms; only changes are logged.
void ClusterNode::Impl::RunDialer(Dialer* dialer) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options_.max_backoff_ms);
  if (options_.tls() && !options_.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options_.tls_server_name);
  }
  // Frames from an authenticated peer may exceed gRPC's 4 MiB default: a forward frame with one
  // large message, a route snapshot of a million filters, a moved session's queue.
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(dialer->address, ChannelCredentials(options_), args);
  auto stub = v1::Cluster::NewStub(channel);
  int backoff_ms = 50;
  std::string last_error;
  for (;;) {
    int64_t started = SteadyMs();
    std::string error;
    StreamEnd end = RunStream(*this, dialer, *stub, &error);
    {
      absl::MutexLock lock(&mu_);
      if (dialer->stop || stopping_) return;
      if (end == StreamEnd::kSelf) {
        spdlog::debug("cluster: {} is this node's own address", dialer->address);
        dialer->is_self = dialer->settled = true;
        UpdateReadyLocked();
        return;
      }
      if (end != StreamEnd::kAlias) dialer->settled = dialer->settled || dialer->node_id.empty();
      UpdateReadyLocked();
    }
    if (end == StreamEnd::kRefused && error != last_error) {
      spdlog::error("cluster: {} refused us: {}", dialer->address, error);
    }
    last_error = error;
    if (SteadyMs() - started > 2 * options_.heartbeat_ms) backoff_ms = 50;  // it had been up
    int wait = end == StreamEnd::kAlias ? options_.max_backoff_ms : backoff_ms;
    backoff_ms = std::min(backoff_ms * 2, options_.max_backoff_ms);
    absl::MutexLock lock(&mu_);
    auto stop = [dialer, this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return dialer->stop || stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Milliseconds(wait));
    if (stop()) return;
  }
}

void ClusterNode::Impl::EnsureDialerLocked(const std::string& address, bool learned) {
  if (address == bound_address_ || stopping_) return;
  auto it = dialers_.find(address);
  if (it != dialers_.end()) {
    if (!learned) it->second->learned = false;  // discovery now vouches for it
    return;
  }
  auto dialer = std::make_unique<Dialer>();
  dialer->address = address;
  dialer->learned = learned;
  Dialer* raw = dialer.get();
  dialers_[address] = std::move(dialer);
  raw->thread = std::thread([this, raw] { RunDialer(raw); });
}

void ClusterNode::Impl::OnPeersChanged(const discovery::PeerSet& peers) {
  absl::MutexLock lock(&mu_);
  std::set<std::string> wanted;
  for (const config::HostPort& hp : peers) wanted.insert(FormatHostPort(hp));
  for (const std::string& address : wanted) EnsureDialerLocked(address, /*learned=*/false);
  for (auto it = dialers_.begin(); it != dialers_.end();) {
    Dialer& d = *it->second;
    if (d.learned || wanted.count(it->first)) {
      ++it;
      continue;
    }
    d.stop = true;  // gone from discovery: the thread ends; joined in Stop()
    if (d.ctx != nullptr) d.ctx->TryCancel();
    retired_dialers_.push_back(std::move(it->second));
    it = dialers_.erase(it);
  }
  discovery_reported_ = true;
  UpdateReadyLocked();
}

void ClusterNode::Impl::CancelPeerStreamsLocked(Peer& peer, bool out, bool in) {
  if (out && peer.out_ctx != nullptr) peer.out_ctx->TryCancel();
  if (in && peer.in_ctx != nullptr) peer.in_ctx->TryCancel();
}

ClusterNode::Impl::Impl(ClusterOptions options, LocalNode& local,
                        std::unique_ptr<discovery::PeerSource> peers)
    : options_(std::move(options)), local_(local), peer_source_(std::move(peers)) {}

ClusterNode::Impl::~Impl() = default;

absl::Status ClusterNode::Impl::Start() {
  grpc::ServerBuilder builder;
  // Never share the port with another process (gRPC sets SO_REUSEPORT by default): a second
  // node started on the same address must fail, not split our peers with us.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(-1);  // see RunDialer
  int port = 0;
  builder.AddListeningPort(options_.listen, ServerCredentials(options_), &port);
  service_ = std::make_unique<ClusterService>(*this);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    return absl::UnavailableError("cluster: cannot listen on " + options_.listen);
  }
  {
    absl::MutexLock lock(&mu_);
    if (!options_.advertise.empty()) {
      bound_address_ = options_.advertise;
    } else {
      std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
      if (host.empty() || host == "0.0.0.0" || host == "[::]") {
        return absl::InvalidArgumentError("cluster: set advertise when listening on any address");
      }
      bound_address_ = host + ":" + std::to_string(port);
    }
    started_ = true;
  }
  notifier_thread_ = std::thread([this] { RunNotifier(); });
  timer_thread_ = std::thread([this] { RunTimer(); });
  if (peer_source_) {
    peer_source_->Start([this](const discovery::PeerSet& peers) { OnPeersChanged(peers); });
  } else {
    OnPeersChanged({});
  }
  spdlog::info("cluster: node {} listening on {} (advertise {}, {})", options_.node_id,
               options_.listen, bound_address_,
               options_.tls() ? "mutual TLS" : "plaintext");
  return absl::OkStatus();
}

void ClusterNode::Impl::Stop(bool graceful_leave) {
  std::vector<std::shared_ptr<Link>> links;
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) return;
    if (graceful_leave) {
      v1::Frame leave;
      leave.mutable_leave();
      BroadcastLocked(leave);
      for (auto& [id, p] : peers_) {
        if (p->out_link) links.push_back(p->out_link);
      }
    }
  }
  for (auto& l : links) l->Flush(500);  // let the leave reach the peers before we cancel
  if (peer_source_) peer_source_->Stop();
  std::vector<std::unique_ptr<Dialer>> dialers;
  std::map<uint64_t, PendingClaim> claims;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [id, p] : peers_) SyncLaneLocked(*p);  // refuse forwards from now on
    for (auto& [address, d] : dialers_) dialers.push_back(std::move(d));
    for (auto& d : retired_dialers_) dialers.push_back(std::move(d));
    dialers_.clear();
    retired_dialers_.clear();
    for (auto& d : dialers) {
      d->stop = true;
      if (d->ctx != nullptr) d->ctx->TryCancel();
    }
    for (auto& [id, p] : peers_) CancelPeerStreamsLocked(*p);
    claims.swap(claims_);
  }
  for (auto& d : dialers) {
    if (d->thread.joinable()) d->thread.join();
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  server_->Wait();
  {
    std::lock_guard<std::mutex> lock(timer_mu_);
    timer_stop_ = true;
    timer_cv_.notify_all();
  }
  timer_thread_.join();
  for (auto& [id, claim] : claims) claim.done(std::nullopt);
  {
    std::lock_guard<std::mutex> lock(notify_mu_);
    notify_stop_ = true;
    notify_cv_.notify_all();
  }
  notifier_thread_.join();
  spdlog::info("cluster: node {} stopped{}", options_.node_id, graceful_leave ? " (left)" : "");
}

}  // namespace meshmq::cluster
