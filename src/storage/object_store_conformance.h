// The ObjectStore conformance suite: every backend must pass it.
// object_store_conformance.cc holds the tests; a backend's test file
// instantiates them with a factory (object_store_test.cc: the local
// directory; s3_object_store_test.cc: S3 on moto):
//
//   INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformance,
//                            ::testing::Values(Backend{"Local", MakeLocal, 13 << 20}),
//                            BackendName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/object_store.h"

namespace aquasense::storage::conformance {

// A store for one test, and whatever it needs cleaned up afterwards.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual ObjectStore& store() = 0;
};

struct Backend {
  std::string name;
  // A fresh, empty store; an error skips the test (say why).
  std::function<Result<std::unique_ptr<StoreUnderTest>>()> make;
  size_t large_object = 13u << 20;  // "large": over the backend's write buffer or part size
};

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

class ObjectStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto s = GetParam().make();
    if (!s.ok())
      GTEST_SKIP() << GetParam().name << " backend unavailable: " << s.status().message();
    sut_ = std::move(*s);
  }
  ObjectStore& store() { return sut_->store(); }

 private:
  std::unique_ptr<StoreUnderTest> sut_;
};

}  // namespace aquasense::storage::conformance
