// CatchAll: the boundary of a thread or a batch, where an exception thrown by
// third-party code (asio, nlohmann::json, std::bad_alloc) turns into a Status.
//
//   Result<Summary> r = CatchAll([&] { return RunBatch(); },
//                                [](const std::string& what) { return Internal(what); });
//
// `f` returns a Status or a Result<T>; when it throws, `on_exception` gets the
// exception's text ("unknown exception" for a non-std one) and returns the Status
// to give back instead (after logging it, if the caller wants). Thread-safe as
// `f` and `on_exception` are.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace aquasense {

template <typename F, typename OnException>
auto CatchAll(F&& f, OnException&& on_exception) -> decltype(f()) {
  std::string what;
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  return std::forward<OnException>(on_exception)(what);
}

}  // namespace aquasense
