#include "cloud/s3_event.h"

#include <gtest/gtest.h>

namespace aquasense::cloud {
namespace {

// As S3 (and moto) send it: the key URL-encoded, '/' included, '+' a space.
constexpr const char* kPut = R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
  "awsRegion":"eu-west-1","eventTime":"2026-12-04T23:40:12.345Z","eventName":"ObjectCreated:Put",
  "s3":{"s3SchemaVersion":"1.0","bucket":{"name":"b","arn":"arn:aws:s3:::b"},
  "object":{"key":"p%2Finbox%2Fs1%2Fweek+1%C3%A9.csv","size":123,"eTag":"x"}}}]})";

TEST(S3Event, ParsesAPutWithAnEncodedKey) {
  auto ev = ParseS3Event(kPut);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_FALSE(ev->test_event);
  ASSERT_EQ(ev->objects.size(), 1u);
  EXPECT_EQ(ev->objects[0].bucket, "b");
  EXPECT_EQ(ev->objects[0].key, "p/inbox/s1/week 1\xC3\xA9.csv");
  EXPECT_EQ(ev->objects[0].size, 123u);
  EXPECT_EQ(ev->objects[0].event_ms, 1796427612345);
  EXPECT_EQ(ev->objects[0].event_name, "ObjectCreated:Put");
}

TEST(S3Event, TestEventAndOtherEvents) {
  auto t = ParseS3Event(R"({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"})");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->test_event);
  EXPECT_TRUE(t->objects.empty());
  auto del = ParseS3Event(
      R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete",
      "s3":{"bucket":{"name":"b"},"object":{"key":"inbox/s1/a.csv"}}}]})");
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(del->objects.empty());
  EXPECT_EQ(ParseS3Event("not json").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseS3Event(R"({"foo":1})").status().code(), Code::kInvalidArgument);
}

TEST(S3Event, InboxKeys) {
  auto f = ParseInboxKey("p/inbox/s1/a.CSV", "p");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->key, "inbox/s1/a.CSV");
  EXPECT_EQ(f->sensor, "s1");
  EXPECT_EQ(f->name, "a.CSV");
  EXPECT_TRUE(ParseInboxKey("inbox/s1/a.csv", ""));
  EXPECT_FALSE(ParseInboxKey("inbox/s1/a.csv", "p"));     // outside the prefix
  EXPECT_FALSE(ParseInboxKey("px/inbox/s1/a.csv", "p"));  // a longer prefix is not it
  EXPECT_FALSE(ParseInboxKey("inbox/a.csv", ""));         // no sensor folder
  EXPECT_FALSE(ParseInboxKey("inbox/s1/sub/a.csv", ""));  // too deep
  EXPECT_FALSE(ParseInboxKey("inbox/s1/a.txt", ""));      // not a CSV
  EXPECT_FALSE(ParseInboxKey("inbox//a.csv", ""));        // empty sensor
  EXPECT_FALSE(ParseInboxKey("landing/s1/a.csv", ""));
}

}  // namespace
}  // namespace aquasense::cloud
