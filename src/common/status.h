// Status and Result: the error model shared by every AquaSense module.
//
// A small code set (after absl::Status) travels from storage up to the CLI
// exit code and the HTTP status, where it is mapped in one place each.
//
//   Result<int> r = ParseThing(s);
//   if (!r.ok()) return r.status();
//   use(*r);
//
// Both types are values: copyable, thread-compatible, and [[nodiscard]] so an
// ignored error is a compile warning (an error under CI's -Werror).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace aquasense {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // bad input from the user: usage, request parameters
  kNotFound,            // no such sensor / month / file
  kAlreadyExists,       // e.g. a file already ingested
  kFailedPrecondition,  // operation not allowed in this state (e.g. uploads off)
  kUnavailable,         // a dependency is down or unreadable (store, channel, input file)
  kInternal,            // a bug or an unexpected failure of the store
  kAborted,             // a conditional write lost (a concurrent change): re-read and retry
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Aborted(std::string m) { return {Code::kAborted, std::move(m)}; }

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace aquasense

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define AQ_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::aquasense::Status aq_s_ = (expr); \
    if (!aq_s_.ok()) return aq_s_;      \
  } while (0)
