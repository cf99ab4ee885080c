// NewSortableId (meta_store.h): ms << 21 | 11 random bits per process | 10
// bits of a per-process sequence. When the sequence wraps within one ms the
// id moves on to the next ms, so ids of one process always increase.
#include "storage/meta_store.h"

#include <atomic>
#include <mutex>
#include <random>

namespace aquasense::storage {

namespace {

constexpr int kSeqBits = 10, kRandomBits = 11;
constexpr int64_t kSeqMask = (int64_t{1} << kSeqBits) - 1;

struct IdState {
  std::mutex mu;
  int64_t last_ms = -1;
  int64_t seq = 0;
  const int64_t random = static_cast<int64_t>(std::random_device{}() & ((1u << kRandomBits) - 1));
};

IdState& State() {
  static IdState state;
  return state;
}

}  // namespace

int64_t NewSortableId(int64_t now_ms) {
  IdState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  if (now_ms > st.last_ms) {
    st.last_ms = now_ms;
    st.seq = 0;
  } else if (++st.seq > kSeqMask) {  // wrapped (or the clock went back): borrow the next ms
    ++st.last_ms;
    st.seq = 0;
  }
  return st.last_ms << (kSeqBits + kRandomBits) | st.random << kSeqBits | st.seq;
}

}  // namespace aquasense::storage
