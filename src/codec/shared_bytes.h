// A read-only view into a reference-counted byte block.
//
// The transport copies each complete packet once out of its socket buffer into one block; every
// payload decoded from it (and every Message built from that payload, on any shard or node
// forwarder) keeps the block alive through this view, so a payload is never copied again on its
// way through the broker. Immutable after construction, so it may be shared across threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace meshmq::codec {

class SharedBytes {
 public:
  SharedBytes() = default;
  // Takes ownership of `bytes` and views all of it.
  explicit SharedBytes(std::string bytes)
      : owner_(std::make_shared<const std::string>(std::move(bytes))),
        data_(owner_->data()),
        size_(owner_->size()) {}
  SharedBytes(std::shared_ptr<const std::string> owner, std::size_t offset, std::size_t size)
      : owner_(std::move(owner)), data_(owner_->data() + offset), size_(size) {}

  // A sub-view sharing the same block.
  SharedBytes Slice(std::size_t offset, std::size_t size) const {
    SharedBytes s;
    s.owner_ = owner_;
    s.data_ = data_ + offset;
    s.size_ = size;
    return s;
  }

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }
  std::string str() const { return std::string(view()); }

  // The block this view points into (null for a default-constructed view). Lets a writer hold
  // the whole received packet, and tests check that a payload was not copied.
  const std::shared_ptr<const std::string>& block() const { return owner_; }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.view() == b.view();
  }

 private:
  std::shared_ptr<const std::string> owner_;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace meshmq::codec
