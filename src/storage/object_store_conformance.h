// The ObjectStore conformance suite: every backend must pass it.
// object_store_conformance.cc holds the tests; a backend's test file
// instantiates them with a factory (object_store_test.cc: the local
// directory; s3_object_store_test.cc: S3 on moto):
//
//   INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformance,
//                            ::testing::Values(Backend{"Local", MakeLocal, 13 << 20}),
//                            ParamName<Backend>);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/conformance_fixture.h"
#include "storage/object_store.h"

namespace aquasense::storage::conformance {

using StoreUnderTest = UnderTest<ObjectStore>;

struct Backend {
  std::string name;
  // A fresh, empty store; an error skips the test (say why).
  std::function<Result<std::unique_ptr<StoreUnderTest>>()> make;
  size_t large_object = 13u << 20;  // "large": over the backend's write buffer or part size
};

class ObjectStoreConformance : public ConformanceFixture<Backend, StoreUnderTest> {};

}  // namespace aquasense::storage::conformance
