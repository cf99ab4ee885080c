#include "storage/keys.h"

#include <gtest/gtest.h>

#include "storage/object_store.h"

namespace aquasense::storage {
namespace {

const std::string kHash(64, 'a');

TEST(Keys, BuildersSpellTheDataLayout) {
  EXPECT_EQ(keys::Landing("s1", kHash), "landing/s1/" + kHash + ".csv");
  EXPECT_EQ(keys::LandingIncoming("s1"), "landing/s1/incoming.csv");
  EXPECT_EQ(keys::FilteredValid("s1", kHash), "filtered/s1/" + kHash + ".valid.csv");
  EXPECT_EQ(keys::FilteredInvalid("s1", keys::kPendingName), "filtered/s1/pending.invalid.csv");
  EXPECT_EQ(keys::Monthly("s-1.x"), "analysis/monthly/s-1.x.csv");
  EXPECT_EQ(keys::kMonthlyIntent, "analysis/monthly.intent");
}

TEST(Keys, ParseLandingIsTheInverseOfLanding) {
  auto parsed = keys::ParseLanding(keys::Landing("Sensor_9", kHash));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->sensor, "Sensor_9");
  EXPECT_EQ(parsed->sha256, kHash);
}

// D1 (substr(8) in Pipeline::Rebuild): only keys Landing() builds parse.
TEST(Keys, ParseLandingRejectsEverythingElse) {
  EXPECT_FALSE(keys::ParseLanding(keys::LandingIncoming("s1")));
  EXPECT_FALSE(keys::ParseLanding("landing/" + kHash + ".csv"));                    // no sensor
  EXPECT_FALSE(keys::ParseLanding("landing/s1/" + kHash + ".txt"));                 // suffix
  EXPECT_FALSE(keys::ParseLanding("filtered/s1/" + kHash + ".csv"));                // prefix
  EXPECT_FALSE(keys::ParseLanding("landing/.x/" + kHash + ".csv"));                 // sensor id
  EXPECT_FALSE(keys::ParseLanding("landing/a/b/" + kHash + ".csv"));                // nested
  EXPECT_FALSE(keys::ParseLanding("landing/s1/" + std::string(64, 'A') + ".csv"));  // case
  EXPECT_FALSE(keys::ParseLanding("landing/s1/" + std::string(63, 'a') + ".csv"));  // length
  EXPECT_FALSE(keys::ParseLanding("landing/"));
  EXPECT_FALSE(keys::ParseLanding(""));
}

TEST(Keys, ParseMonthlyIsTheInverseOfMonthly) {
  EXPECT_EQ(keys::ParseMonthly(keys::Monthly("s1")), "s1");
  EXPECT_FALSE(keys::ParseMonthly("analysis/monthly.intent"));
  EXPECT_FALSE(keys::ParseMonthly("analysis/other/s1.csv"));
  // Strays (a full rebuild removes them) parse to their name.
  EXPECT_EQ(keys::ParseMonthly("analysis/monthly/a/b.csv"), "a/b");
  EXPECT_FALSE(keys::ParseMonthly("analysis/monthly/s1.csv.tmp"));
}

TEST(Keys, EveryBuiltKeyIsAValidObjectKey) {
  for (const std::string& k :
       {keys::Landing("s1", kHash), keys::LandingIncoming("s1"), keys::FilteredValid("s1", kHash),
        keys::FilteredInvalid("s1", "pending"), keys::Monthly("s1"),
        std::string(keys::kMonthlyIntent)}) {
    EXPECT_TRUE(ValidObjectKey(k)) << k;
  }
}

// D4: the one key check both backends use (was copied into each).
TEST(ValidObjectKey, RejectsEscapesAndEmptyParts) {
  EXPECT_TRUE(ValidObjectKey("a"));
  EXPECT_TRUE(ValidObjectKey("a/b.c/..d"));
  for (std::string_view bad :
       {"", "/a", "a/", "a//b", ".", "..", "a/../b", "./a", ".tmp/x", "a/.tmp/b"}) {
    EXPECT_FALSE(ValidObjectKey(bad)) << bad;
  }
  EXPECT_FALSE(ValidObjectKey(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace aquasense::storage
