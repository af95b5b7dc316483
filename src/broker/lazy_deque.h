// A deque that is one pointer until its first element. Every session and connection carries
// queues that idle ones never use (inflight and offline queues, held acks, pipelined packets);
// a boost::container::deque object is 80 bytes even while empty, std::deque also allocates
// ~600 bytes up front. This is 8 bytes until something is queued; the storage is then kept.
//
// The subset of the deque interface the broker uses. Same thread rules as a deque.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include <boost/container/deque.hpp>

namespace meshmq::broker {

template <typename T>
class LazyDeque {
 public:
  using Deque = boost::container::deque<T>;
  using value_type = T;
  using iterator = typename Deque::iterator;
  using const_iterator = typename Deque::const_iterator;

  LazyDeque() = default;
  LazyDeque(LazyDeque&&) noexcept = default;
  LazyDeque& operator=(LazyDeque&&) noexcept = default;
  LazyDeque(const LazyDeque& o) : d_(o.d_ ? std::make_unique<Deque>(*o.d_) : nullptr) {}
  LazyDeque& operator=(const LazyDeque& o) {
    if (this != &o) d_ = o.d_ ? std::make_unique<Deque>(*o.d_) : nullptr;
    return *this;
  }

  bool empty() const { return !d_ || d_->empty(); }
  std::size_t size() const { return d_ ? d_->size() : 0; }

  iterator begin() { return d_ ? d_->begin() : Empty().begin(); }
  iterator end() { return d_ ? d_->end() : Empty().end(); }
  const_iterator begin() const { return d_ ? d_->cbegin() : Empty().cbegin(); }
  const_iterator end() const { return d_ ? d_->cend() : Empty().cend(); }

  T& front() { return d_->front(); }
  const T& front() const { return d_->front(); }
  T& back() { return d_->back(); }
  const T& back() const { return d_->back(); }
  T& operator[](std::size_t i) { return (*d_)[i]; }
  const T& operator[](std::size_t i) const { return (*d_)[i]; }

  void push_back(const T& v) { Get().push_back(v); }
  void push_back(T&& v) { Get().push_back(std::move(v)); }
  void push_front(T&& v) { Get().push_front(std::move(v)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return Get().emplace_back(std::forward<Args>(args)...);
  }
  void pop_front() { d_->pop_front(); }
  void pop_back() { d_->pop_back(); }
  iterator erase(const_iterator pos) { return d_->erase(pos); }
  iterator erase(const_iterator first, const_iterator last) {
    return d_ ? d_->erase(first, last) : Empty().end();
  }
  template <typename It>
  void assign(It first, It last) {
    if (first == last && !d_) return;
    Get().assign(first, last);
  }
  // Empties the deque and frees its storage.
  void clear() { d_.reset(); }

 private:
  Deque& Get() {
    if (!d_) d_ = std::make_unique<Deque>();
    return *d_;
  }
  // Iterators of a missing deque: those of one shared empty deque that is never modified.
  static Deque& Empty() {
    static Deque empty;
    return empty;
  }

  std::unique_ptr<Deque> d_;
};

}  // namespace meshmq::broker
