// The MetaStore conformance suite (contract v2, meta_store.h): every backend
// must pass it. meta_store_conformance.cc holds the tests; a backend's test
// file instantiates them with a factory (meta_store_test.cc: SQLite and
// memory; the DynamoDB backend: on moto):
//
//   INSTANTIATE_TEST_SUITE_P(Memory, MetaStoreConformance,
//       ::testing::Values(MetaBackend{"Memory", [] { return MakeMemory(); }}),
//       ParamName<MetaBackend>);
//
// The tests name the review items they guard (code-review-2026-12.md §4 C15-C24).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/conformance_fixture.h"
#include "storage/meta_store.h"

namespace aquasense::storage::conformance {

// A store for one test and, where the backend has one, a second handle on it.
class MetaUnderTest : public UnderTest<MetaStore> {
 public:
  // A second handle on the same store (another process's view), or nullptr
  // when the backend has no such thing (memory).
  virtual std::unique_ptr<MetaStore> OpenAgain() { return nullptr; }
};

struct MetaBackend {
  std::string name;
  // A fresh, empty store; an error skips the test (say why).
  std::function<Result<std::unique_ptr<MetaUnderTest>>()> make;
  // Whether two batches may be open at once in one process (SQLite: no, a
  // batch holds the write lock).
  bool concurrent_batches = true;
};

class MetaStoreConformance : public ConformanceFixture<MetaBackend, MetaUnderTest> {};

}  // namespace aquasense::storage::conformance
