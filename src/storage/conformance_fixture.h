// The fixture both storage conformance suites share (object_store_conformance.h,
// meta_store_conformance.h): a parameterised test whose parameter names a
// backend and holds a factory; every test gets a fresh store from it, and a
// factory error skips the test, saying why.
//
//   struct Backend { std::string name; std::function<Result<std::unique_ptr<Sut>>()> make; };
//   class Suite : public ConformanceFixture<Backend, Sut> {};
//   TEST_P(Suite, X) { store()...; }
//   INSTANTIATE_TEST_SUITE_P(Local, Suite, ::testing::Values(Backend{...}), ParamName<Backend>);
//
// Header-only, for tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace aquasense::storage::conformance {

// A store for one test, and whatever it needs cleaned up afterwards.
template <class Store>
class UnderTest {
 public:
  virtual ~UnderTest() = default;
  virtual Store& store() = 0;
};

// The test name of a backend: its `name`.
template <class Param>
std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  return info.param.name;
}

// `Param` has `std::string name` and `make()` returning Result<unique_ptr<Sut>>.
template <class Param, class Sut>
class ConformanceFixture : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    const Param& backend = this->GetParam();
    auto s = backend.make();
    if (!s.ok()) GTEST_SKIP() << backend.name << " backend unavailable: " << s.status().message();
    sut_ = std::move(*s);
  }
  Sut& sut() { return *sut_; }
  auto& store() { return sut_->store(); }

 private:
  std::unique_ptr<Sut> sut_;
};

}  // namespace aquasense::storage::conformance
